/**
 * URL path patterns as `_redirects` and `_headers` write them (Netlify and Cloudflare Pages):
 * literal segments, `:name` for exactly one segment, and `*` for any rest (the splat). Patterns are
 * matched against decoded request paths (`parsePath`), so a pattern's literal parts are decoded
 * once at compile time.
 */

/** A rule file's syntax or content error, located: `_redirects:3: a rule needs a target`. */
export class RuleError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

export interface Pattern {
  /** As written. */
  readonly source: string;
  /** No `:name` and no `*`: matched by lookup of `key`. */
  readonly exact: boolean;
  /** The decoded path as `exactKey` gives it (for an exact pattern, what it matches). */
  readonly key: string;
  /** The first segment when it is literal (bucketing many rules); undefined for `:x` or `*`. */
  readonly firstSegment: string | undefined;
  /** Captures by name (`splat` for `*`), or undefined when `path` does not match. */
  match(path: string): Record<string, string> | undefined;
}

const NAME = /^:[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The key two paths share when they differ only by a trailing slash: rules match `/about` and
 * `/about/` alike, as Netlify does.
 *
 * @example exactKey("/about/") // "/about"
 * @example exactKey("/")       // "/"
 */
export function exactKey(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/**
 * Compiles a path pattern. With `splatAnywhere` (`_headers`), `*` may stand anywhere and for any
 * characters (`/*.js`); otherwise (`_redirects`) only as the last segment.
 *
 * @example compilePattern("/blog/:year/*", false).match("/blog/2024/a/b") // { year: "2024", splat: "a/b" }
 * @example compilePattern("/news/*", false).match("/news")                // { splat: "" }
 * @throws Error with a message for the user (the caller adds the file and line)
 */
export function compilePattern(source: string, splatAnywhere: boolean): Pattern {
  if (!source.startsWith("/")) throw new Error(`a path must start with "/": ${source}`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(source);
  } catch {
    throw new Error(`not a valid percent-encoded path: ${source}`);
  }
  // A trailing slash is optional in every match, so it is no segment.
  const segments = exactKey(decoded).split("/").slice(1);
  const names: string[] = [];
  let regex = "^";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (NAME.test(segment)) {
      names.push(segment.slice(1));
      regex += "/([^/]+)";
    } else if (segment === "*" && last) {
      // `/news/*` also matches `/news` and `/news/`, with an empty splat.
      names.push("splat");
      regex += "(?:/(.*))?";
    } else if (segment.includes("*")) {
      if (!splatAnywhere) throw new Error(`"*" may only be the last segment: ${source}`);
      regex += `/${segment.split("*").map(escapeRegex).join("(.*)")}`;
      for (let n = segment.split("*").length - 1; n > 0; n--) names.push("splat");
    } else if (segment.startsWith(":")) {
      throw new Error(`not a placeholder name: ${segment}`);
    } else {
      regex += `/${escapeRegex(segment)}`;
    }
  });
  const exact = names.length === 0;
  const literal = segments[0] ?? "";
  const firstSegment =
    literal !== "" && !literal.includes("*") && !literal.startsWith(":") ? literal : undefined;
  // One optional trailing slash, except after a final splat, which takes it.
  const compiled = exact
    ? undefined
    : new RegExp(`${regex}${regex.endsWith("(.*))?") ? "" : "/?"}$`);
  const key = exactKey(decoded);
  return {
    source,
    exact,
    key,
    firstSegment,
    match(path) {
      if (exact) return exactKey(path) === key ? {} : undefined;
      const m = compiled?.exec(path);
      if (m == null) return undefined;
      const captures: Record<string, string> = {};
      names.forEach((name, i) => {
        // Several `*` in one `_headers` pattern: `:splat` is the first.
        if (captures[name] === undefined) captures[name] = m[i + 1] ?? "";
      });
      return captures;
    },
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The lines of a rule file with their 1-based numbers, comments and blank lines dropped. A `#`
 * starts a comment at the start of a line or after white space; inside a token (`/a#b`) it is
 * part of the token.
 */
export function ruleLines(text: string): { readonly line: number; readonly text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const cut = raw.search(/(^|\s)#/);
    const body = (cut === -1 ? raw : raw.slice(0, cut)).trimEnd();
    if (body.trim() !== "") out.push({ line: i + 1, text: body });
  });
  return out;
}

/**
 * Rules by pattern, for lookup: exact patterns by their key, the others by their first literal
 * segment, so a path is tried against the rules that could match it, not all of them (10,000
 * rules stay a few map lookups).
 */
export class PatternIndex<T extends { readonly line: number; readonly pattern: Pattern }> {
  readonly #exact = new Map<string, T[]>();
  readonly #byFirst = new Map<string, T[]>();
  readonly #anyFirst: T[] = [];

  constructor(items: readonly T[]) {
    for (const item of items) {
      const { pattern } = item;
      if (pattern.exact) pushTo(this.#exact, pattern.key, item);
      else if (pattern.firstSegment !== undefined)
        pushTo(this.#byFirst, pattern.firstSegment, item);
      else this.#anyFirst.push(item);
    }
  }

  /** The rules that may match `path`, in file order (a superset of those that do). */
  candidates(path: string): T[] {
    const exact = this.#exact.get(exactKey(path)) ?? [];
    const first = this.#byFirst.get(path.split("/")[1] ?? "") ?? [];
    const lists = [exact, first, this.#anyFirst].filter((list) => list.length > 0);
    if (lists.length === 1) return lists[0] as T[]; // each list is in file order already
    return lists.flat().sort((a, b) => a.line - b.line);
  }
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
