// What 10,000 site rules cost outside the request path: compiling them when a snapshot is built or
// mapped, and one lookup of the table, which a request pays only when its head is not in the
// decision cache (wrk repeats one head, so its rows measure the cached path).
import { sep } from "node:path";
import { compileRedirects } from "../src/rules/redirects.ts";
import { applyHeaderRules, RULE_FILES, readSiteRules } from "../src/rules/site-rules.ts";
import { median } from "./report.ts";
import { filesUnder, RULES_REQUESTS } from "./rules-corpus.ts";

export interface RulesCost {
  readonly redirects: number;
  readonly headerBlocks: number;
  readonly files: number;
  /** Reading and compiling both files, as the builder does for every snapshot. */
  readonly readMs: number;
  /** Compiling `_redirects` from its text, as every worker does when it maps an image. */
  readonly compileMs: number;
  /** Merging `_headers` into every file's head. */
  readonly applyMs: number;
  /** One `find` of the redirect table per request kind. */
  readonly lookups: readonly { readonly what: string; readonly ns: number }[];
}

const LOOKUPS = 200_000;

function timeMs(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

/** URL paths of the files a snapshot of `root` serves (rule files and `.gz`/`.br` sidecars left out). */
function servedPaths(root: string): string[] {
  return filesUnder(root)
    .map((file) => `/${file.split(sep).join("/")}`)
    .filter((path) => !RULE_FILES.has(path) && !/\.(gz|br)$/.test(path));
}

/** Medians of `rounds` measurements on the rules site at `root`. */
export function measureRulesCost(root: string, rounds = 7): RulesCost {
  const first = readSiteRules(root);
  const { headers, redirects } = first;
  if (headers === undefined || redirects === undefined) throw new Error(`no rule files in ${root}`);
  const paths = servedPaths(root);
  const base = { contentType: "text/plain", cacheControl: "public, max-age=0", extraHeaders: {} };
  // One unmeasured run first: the first call of each also pays for compiling the code.
  const repeat = (run: () => void) => {
    run();
    return median(Array.from({ length: rounds }, () => timeMs(run)));
  };
  const lookup = (path: string, existing: boolean) => {
    const perRound = Array.from({ length: rounds }, () => {
      let found = 0;
      const ms = timeMs(() => {
        for (let i = 0; i < LOOKUPS; i++) if (redirects.find(path, "", existing)) found++;
      });
      if (found !== 0 && found !== LOOKUPS) throw new Error("lookups disagree");
      return (ms * 1e6) / LOOKUPS;
    });
    return median(perRound);
  };
  return {
    redirects: redirects.size,
    headerBlocks: headers.size,
    files: paths.length,
    readMs: repeat(() => readSiteRules(root)),
    compileMs: repeat(() => compileRedirects(redirects.source.text, redirects.source.file)),
    applyMs: repeat(() => {
      for (const path of paths) applyHeaderRules(headers, path, base);
    }),
    lookups: [
      {
        what: "existing file (forced rules under its first segment)",
        ns: lookup("/icons/icon-0001.svg", true),
      },
      {
        what: `exact redirect (${RULES_REQUESTS.redirect.path})`,
        ns: lookup(RULES_REQUESTS.redirect.path, false),
      },
      {
        what: `splat rewrite (${RULES_REQUESTS.rewrite.path})`,
        ns: lookup(RULES_REQUESTS.rewrite.path, false),
      },
      { what: "missing path, no rule (/nowhere/at-all)", ns: lookup("/nowhere/at-all", false) },
    ],
  };
}

/** The report's section on the cost of the rules outside the measured requests. */
export function formatRulesCost(cost: RulesCost): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return [
    `Load-time cost of ${cost.redirects.toLocaleString("en-US")} redirect rules and ${cost.headerBlocks.toLocaleString("en-US")} header blocks (medians, harness core):`,
    "",
    `- read and compile both files (the builder, per snapshot): ${ms(cost.readMs)}`,
    `- compile \`_redirects\` from the image (each worker, per snapshot): ${ms(cost.compileMs)}`,
    `- merge \`_headers\` into ${cost.files.toLocaleString("en-US")} files' heads: ${ms(cost.applyMs)}`,
    "",
    "One redirect-table lookup, paid only by a request whose head misses the decision cache:",
    "",
    ...cost.lookups.map(({ what, ns }) => `- ${what}: ${Math.round(ns)} ns`),
  ].join("\n");
}
