// The 10,000-rule benchmark's pieces on the smoke corpus: the generated rule files parse, their
// counts are the advertised ones, and a real memserve on the rules site passes the gate of every
// scenario the `memserve-rules` server runs (no timing: performance is `npm run bench`'s).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCorpus, FIXED_FILES } from "../bench/corpus.ts";
import { checkScenario, rawGet } from "../bench/gate.ts";
import type { Measurement } from "../bench/measure.ts";
import { formatRulesTable, summarize } from "../bench/report.ts";
import {
  generateHeaders,
  generateRedirects,
  RULE_COUNTS,
  RULES_REQUESTS,
  writeRulesSite,
} from "../bench/rules-corpus.ts";
import { formatRulesCost, measureRulesCost } from "../bench/rules-cost.ts";
import { runsOn, SCENARIOS } from "../bench/scenarios.ts";
import { isSteady } from "../bench/servers.ts";
import { parseWrkOutput } from "../bench/wrk.ts";
import { parseHeaders } from "../src/rules/headers-file.ts";
import { parseRedirects } from "../src/rules/redirects.ts";
import { startCli } from "./support/cli.ts";

let dir: string;
let site: string;
let rulesSite: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bench-rules-"));
  site = ensureCorpus(join(dir, "corpus"), "smoke").root;
  rulesSite = join(dir, "corpus", "rules-site");
  writeRulesSite(site, rulesSite);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rules corpus", () => {
  test("10,000 redirect rules and 1,000 header blocks of the advertised kinds", () => {
    const { rules, warnings } = parseRedirects(generateRedirects());
    expect(warnings).toEqual([]);
    expect(rules).toHaveLength(10_000);
    expect(rules.filter((r) => r.pattern.exact)).toHaveLength(RULE_COUNTS.exact);
    expect(rules.filter((r) => r.status === 200)).toHaveLength(RULE_COUNTS.rewrite);
    expect(rules.filter((r) => r.force)).toHaveLength(RULE_COUNTS.forced);
    expect(parseHeaders(generateHeaders())).toHaveLength(RULE_COUNTS.headerBlocks);
  });

  test("links the corpus's files (same inode) and adds both rule files", () => {
    const linked = statSync(join(rulesSite, FIXED_FILES.css.path));
    expect(linked.ino).toBe(statSync(join(site, FIXED_FILES.css.path)).ino);
    expect(statSync(join(rulesSite, "_redirects")).size).toBeGreaterThan(100_000);
    // Made again from scratch: a second call replaces the first.
    expect(writeRulesSite(site, rulesSite)).toBeGreaterThan(30);
  });

  test("the load-time measurement reads what the site holds", () => {
    const cost = measureRulesCost(rulesSite, 1);
    expect(cost).toMatchObject({ redirects: 10_000, headerBlocks: 1000 });
    expect(cost.lookups).toHaveLength(4);
    expect(formatRulesCost(cost)).toContain("10,000 redirect rules and 1,000 header blocks");
  });
});

describe("memserve on the rules site", () => {
  test("passes the gate of every scenario memserve-rules runs", async () => {
    const run = await startCli([rulesSite, "--port", "0", "--no-cache-dir", "--no-watch"], 60_000);
    try {
      // As the bench does: measure once the background pass to maximum is over.
      const deadline = Date.now() + 60_000;
      while (!isSteady(run.stdout()) && Date.now() < deadline) await Bun.sleep(100);
      const scenarios = SCENARIOS.filter(
        (s) => runsOn(s, "memserve-rules") && !s.name.startsWith("media-"),
      );
      expect(scenarios.map((s) => s.name)).toContain("redirect-exact");
      for (const scenario of scenarios) {
        const gate = await checkScenario(run.url, scenario);
        expect({ scenario: scenario.name, gate }).toMatchObject({ gate: { ok: true } });
      }
      // The header blocks reached the files the file scenarios request (else "unchanged" is vacuous).
      const svg = await rawGet(run.url, `/${FIXED_FILES.tinySvg.path}`, {});
      expect(svg.headers.get("x-content-type-options")).toBe("nosniff");
      expect(svg.headers.get("cache-control")).toBe("public, max-age=86400");
      const redirect = SCENARIOS.find((s) => s.name === "redirect-exact");
      if (redirect === undefined) throw new Error("scenario missing");
      expect(await checkScenario(run.url, redirect)).toMatchObject({
        answer: `301 -> ${RULES_REQUESTS.redirect.location} 0 B`,
      });
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  }, 90_000);

  test("the rules-only scenarios run on memserve-rules alone", () => {
    const only = SCENARIOS.filter((s) => s.only !== undefined).map((s) => s.name);
    expect(only).toEqual(["redirect-exact", "rewrite-splat"]);
    for (const s of SCENARIOS.filter((s) => s.only !== undefined)) {
      expect(runsOn(s, "memserve")).toBe(false);
      expect(runsOn(s, "nginx")).toBe(false);
    }
  });
});

describe("rules table", () => {
  const run = (rps: number, cpu: number): Measurement => ({
    wrk: {
      ...parseWrkOutput("Requests/sec: 1\n  1 requests in 1.00s, 1MB read\n"),
      requestsPerSec: rps,
    },
    cpuUsPerRequest: cpu,
    rssIdleKib: 1,
    rssPeakKib: 1,
    rssAfterKib: 1,
  });
  test("rules over no rules where both ran; absolute numbers for the rules-only rows", () => {
    const cases = [
      summarize({ server: "memserve", scenario: "tiny-svg", runs: [run(100, 10)] }),
      summarize({ server: "memserve-rules", scenario: "tiny-svg", runs: [run(95, 10.5)] }),
      summarize({ server: "memserve-rules", scenario: "redirect-exact", runs: [run(120, 8)] }),
    ];
    const table = formatRulesTable(cases) ?? "";
    expect(table).toContain("| tiny-svg | 95 | 10.50 | 0.95x | 1.05x |");
    expect(table).toContain("| redirect-exact | 120 | 8.00 | — | — |");
    expect(formatRulesTable(cases.slice(0, 1))).toBeUndefined();
  });
});
