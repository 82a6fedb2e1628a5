import { encodePath } from "../http/path.ts";
import { compilePattern, type Pattern, PatternIndex, RuleError, ruleLines } from "./pattern.ts";

/**
 * `_redirects` at the site root, in Netlify's syntax (Cloudflare Pages reads a subset of it):
 * `from to [status][!]`, one rule a line, the first matching rule wins.
 * - 301 (the default), 302, 303, 307 and 308 redirect with `Location`;
 * - 200 rewrites: the target file of this site is served under the requested URL;
 * - 404 serves the target file with status 404.
 * A rule is shadowed by a file that exists at the path, unless its status ends with `!`.
 */
export type RedirectStatus = 200 | 301 | 302 | 303 | 307 | 308 | 404;

const STATUSES = new Set<number>([200, 301, 302, 303, 307, 308, 404]);

export interface RedirectRule {
  readonly line: number;
  /** The source. */
  readonly pattern: Pattern;
  /** As written: a path, or an absolute URL (redirects only). */
  readonly to: string;
  readonly status: RedirectStatus;
  readonly force: boolean;
}

export interface ParsedRedirects {
  readonly rules: readonly RedirectRule[];
  /** Valid lines memserve cannot apply (other platforms' conditions), skipped. */
  readonly warnings: readonly string[];
}

/** A token Netlify reads as a condition (`Country=us`, `Role=admin`) or a query match (`id=:id`). */
const CONDITION = /^[A-Za-z][\w-]*=/;
const STATUS = /^(\d{3})(!?)$/;
const ABSOLUTE = /^https?:\/\//i;

/**
 * Parses a `_redirects` file.
 *
 * @example parseRedirects("/old /new\n/app/* /index.html 200").rules.map((r) => r.status) // [301, 200]
 * @throws RuleError naming `file:line` for a line that does not parse
 */
export function parseRedirects(text: string, file = "_redirects"): ParsedRedirects {
  const rules: RedirectRule[] = [];
  const warnings: string[] = [];
  for (const { line, text: body } of ruleLines(text)) {
    const fail = (reason: string): never => {
      throw new RuleError(file, line, reason);
    };
    const tokens = body.trim().split(/\s+/);
    const [from = "", ...rest] = tokens;
    if (ABSOLUTE.test(from)) {
      warnings.push(`${file}:${line}: skipped: rules for another host (${from}) are not supported`);
      continue;
    }
    if (rest.length > 0 && CONDITION.test(rest[0] ?? "")) {
      warnings.push(
        `${file}:${line}: skipped: query-string matching (${rest[0]}) is not supported`,
      );
      continue;
    }
    const to = rest[0];
    if (to === undefined) fail(`a rule needs a source and a target: "${body.trim()}"`);
    let status: RedirectStatus = 301;
    let force = false;
    const statusToken = rest[1];
    if (statusToken !== undefined) {
      const m = STATUS.exec(statusToken);
      const code = Number(m?.[1]);
      if (m === null || !STATUSES.has(code)) {
        fail(
          `unknown status "${statusToken}" (known: 200, 301, 302, 303, 307, 308, 404, with ! to force)`,
        );
      }
      status = code as RedirectStatus;
      force = m?.[2] === "!";
    }
    const extra = rest.slice(2);
    if (extra.length > 0) {
      if (extra.every((t) => CONDITION.test(t))) {
        warnings.push(
          `${file}:${line}: skipped: conditions (${extra.join(" ")}) are not supported`,
        );
        continue;
      }
      fail(`unexpected "${extra.join(" ")}" after the status`);
    }
    const target = to as string;
    if (!target.startsWith("/") && !ABSOLUTE.test(target)) {
      fail(`the target must be a path starting with "/" or an http(s) URL: ${target}`);
    }
    if (ABSOLUTE.test(target) && (status === 200 || status === 404)) {
      fail(`a ${status} rule serves a file of this site: its target must be a path, not ${target}`);
    }
    let pattern: Pattern;
    try {
      pattern = compilePattern(from, false);
    } catch (error) {
      return fail((error as Error).message);
    }
    rules.push({ line, pattern, to: target, status, force });
  }
  return { rules, warnings };
}

/** What a matching rule asks for. */
export type RedirectMatch =
  | {
      readonly kind: "redirect";
      readonly status: 301 | 302 | 303 | 307 | 308;
      readonly location: string;
    }
  /** Serve the decoded snapshot path `path` with `status` (200: a rewrite). */
  | { readonly kind: "serve"; readonly status: 200 | 404; readonly path: string };

/**
 * Parses and compiles a `_redirects` file (`file` names it in messages).
 *
 * @throws RuleError naming `file:line` for a line that does not parse
 */
export function compileRedirects(
  text: string,
  file: string,
): { readonly table: RedirectTable; readonly warnings: readonly string[] } {
  const { rules, warnings } = parseRedirects(text, file);
  return { table: new RedirectTable(rules, { file, text }), warnings };
}

/** The rules compiled for lookup (see `PatternIndex`). */
export class RedirectTable {
  readonly size: number;
  /** Whether any rule is forced: only then is an existing file's path looked up at all. */
  readonly hasForced: boolean;
  readonly #index: PatternIndex<RedirectRule>;
  /** The forced rules alone: an existing file's path is tried against these only. */
  readonly #forced: PatternIndex<RedirectRule>;

  constructor(
    rules: readonly RedirectRule[],
    /** The file as read: an image stores it, and each process that maps the image compiles it. */
    readonly source: { readonly file: string; readonly text: string } = { file: "", text: "" },
  ) {
    this.size = rules.length;
    const forced = rules.filter((r) => r.force);
    this.hasForced = forced.length > 0;
    this.#index = new PatternIndex(rules);
    this.#forced = new PatternIndex(forced);
  }

  /**
   * The first rule (in file order) that matches the decoded `path`; with `existing`, only forced
   * rules (a file is there). `query` is the request's (`?a=1` or ""), kept on a redirect unless
   * the target has its own.
   */
  find(path: string, query: string, existing: boolean): RedirectMatch | undefined {
    for (const rule of (existing ? this.#forced : this.#index).candidates(path)) {
      const captures = rule.pattern.match(path);
      if (captures !== undefined) return resolveTarget(rule, captures, query);
    }
    return undefined;
  }
}

/** `to` with `:name` and `:splat` filled in (percent-encoded), and the request's query. */
function resolveTarget(
  rule: RedirectRule,
  captures: Record<string, string>,
  query: string,
): RedirectMatch {
  const filled = rule.to.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) => {
    const value = captures[name];
    return value === undefined ? whole : encodePath(value);
  });
  if (rule.status === 200 || rule.status === 404) {
    const hashOrQuery = filled.search(/[?#]/);
    const path = hashOrQuery === -1 ? filled : filled.slice(0, hashOrQuery);
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      decoded = path;
    }
    return { kind: "serve", status: rule.status, path: decoded };
  }
  const location = filled.includes("?") ? filled : insertQuery(filled, query);
  return { kind: "redirect", status: rule.status, location };
}

/** The query goes before a fragment: `/b#top` + `?x=1` -> `/b?x=1#top`. */
function insertQuery(location: string, query: string): string {
  if (query === "") return location;
  const hash = location.indexOf("#");
  return hash === -1
    ? `${location}${query}`
    : `${location.slice(0, hash)}${query}${location.slice(hash)}`;
}
