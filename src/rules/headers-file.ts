import { compilePattern, type Pattern, PatternIndex, RuleError, ruleLines } from "./pattern.ts";

/**
 * `_headers` at the site root (Netlify and Cloudflare Pages): an unindented URL pattern starts a
 * block, indented `Name: value` lines follow, and `! Name` (Cloudflare) removes a header. Every
 * matching block applies, in file order.
 */
export interface HeaderBlock {
  readonly line: number;
  readonly pattern: Pattern;
  /** Lower-case name and value, in file order (a name may repeat). */
  readonly set: readonly (readonly [string, string])[];
  /** Lower-case names removed. */
  readonly remove: readonly string[];
}

// RFC 9110 §5.1 field-name = token; §5.5 field values are visible characters, spaces and tabs.
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Names a rule may not set or remove: memserve computes them per response (framing, coding,
 * validators, the date) or per request (Location: use `_redirects`).
 */
const FORBIDDEN = new Set([
  "content-length",
  "content-encoding",
  "content-range",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "trailer",
  "te",
  "date",
  "etag",
  "last-modified",
  "accept-ranges",
  "location",
]);

/**
 * Parses a `_headers` file.
 *
 * @example parseHeaders("/*\n  X-Frame-Options: DENY")[0]?.set // [["x-frame-options", "DENY"]]
 * @throws RuleError naming `file:line` for a line that does not parse or a forbidden name
 */
export function parseHeaders(text: string, file = "_headers"): HeaderBlock[] {
  const blocks: { line: number; pattern: Pattern; set: [string, string][]; remove: string[] }[] =
    [];
  for (const { line, text: body } of ruleLines(text)) {
    const fail = (reason: string): never => {
      throw new RuleError(file, line, reason);
    };
    const indented = /^\s/.test(body);
    const content = body.trim();
    if (!indented) {
      if (/^https?:\/\//i.test(content))
        fail(`patterns for another host are not supported: ${content}`);
      try {
        blocks.push({ line, pattern: compilePattern(content, true), set: [], remove: [] });
      } catch (error) {
        fail((error as Error).message);
      }
      continue;
    }
    const block = blocks.at(-1);
    if (block === undefined) fail(`a header line before any URL pattern: "${content}"`);
    const current = block as (typeof blocks)[number];
    if (content.startsWith("!")) {
      const name = checkName(content.slice(1).trim(), fail);
      if (name === "content-type" || name === "vary") {
        fail(`${name} cannot be removed: every response needs it (set it instead)`);
      }
      current.remove.push(name);
      continue;
    }
    const colon = content.indexOf(":");
    if (colon <= 0) fail(`expected "Name: value": "${content}"`);
    const name = checkName(content.slice(0, colon).trim(), fail);
    const value = content.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) fail(`invalid value for header ${name}`);
    current.set.push([name, value]);
  }
  return blocks;
}

function checkName(name: string, fail: (reason: string) => never): string {
  if (!TOKEN.test(name)) fail(`invalid header name: ${JSON.stringify(name)}`);
  const lower = name.toLowerCase();
  if (FORBIDDEN.has(lower))
    fail(`${lower} cannot be set by a rule: memserve computes it per response`);
  return lower;
}

/** What the blocks do to one path: the headers they set (joined) and those they remove. */
export interface PathHeaders {
  readonly set: Readonly<Record<string, string>>;
  readonly remove: ReadonlySet<string>;
}

export const NO_PATH_HEADERS: PathHeaders = Object.freeze({ set: {}, remove: new Set<string>() });

/** The blocks compiled for lookup (see `PatternIndex`). */
export class HeaderTable {
  readonly size: number;
  readonly #index: PatternIndex<HeaderBlock>;

  constructor(blocks: readonly HeaderBlock[]) {
    this.size = blocks.length;
    this.#index = new PatternIndex(blocks);
  }

  /**
   * Applies every block that matches one of `paths` (the URLs one file answers: `/docs/index.html`
   * and `/docs/`), in file order: a name set by several blocks, or twice in one, is joined with
   * ", "; `! name` drops what earlier blocks set and what memserve would add.
   *
   * @example new HeaderTable(parseHeaders("/*\n  A: 1\n/x\n  A: 2")).for(["/x"]).set // { a: "1, 2" }
   */
  for(paths: readonly string[]): PathHeaders {
    const candidates = new Set(paths.flatMap((path) => this.#index.candidates(path)));
    const matching = [...candidates]
      .filter((block) => paths.some((path) => block.pattern.match(path) !== undefined))
      .sort((a, b) => a.line - b.line);
    if (matching.length === 0) return NO_PATH_HEADERS;
    const set: Record<string, string> = {};
    const remove = new Set<string>();
    for (const block of matching) {
      for (const name of block.remove) {
        delete set[name];
        remove.add(name);
      }
      for (const [name, value] of block.set) {
        set[name] = set[name] === undefined ? value : `${set[name]}, ${value}`;
        remove.delete(name);
      }
    }
    return { set, remove };
  }
}
