// Which files announce themselves as dictionaries (RFC 9842 §2.1 `Use-As-Dictionary`), and for
// which paths: a versioned file is the dictionary for the next versions of its own name.
import { encodePath } from "../http/path.ts";
import { hashInPath } from "../snapshot/cache-policy.ts";

/** URL Pattern syntax that a literal path part must escape (WHATWG URL Pattern, pathname). */
const PATTERN_SPECIAL = /[*:(){}?+\\]/g;

/**
 * The `match` pattern of a versioned file: its URL path with the content hash replaced by `*`, so
 * every version of the name matches it. Undefined for a file with no hash in its name.
 *
 * @example dictionaryMatchFor("/assets/app.3f9a1c2b.js")   // "/assets/app.*.js"
 * @example dictionaryMatchFor("/assets/index-BXmT3kLp.js") // "/assets/index-*.js"
 * @example dictionaryMatchFor("/index.html")                // undefined
 */
export function dictionaryMatchFor(path: string): string | undefined {
  const token = hashInPath(path);
  if (token === undefined) return undefined;
  const literal = (part: string) => encodePath(part).replace(PATTERN_SPECIAL, "\\$&");
  return `${literal(path.slice(0, token[0]))}*${literal(path.slice(token[1]))}`;
}

/** `match-dest` (§2.1.2) where the type says how a page fetches the file. */
function destinationOf(path: string): string | undefined {
  if (/\.m?js$/i.test(path)) return "script";
  if (/\.css$/i.test(path)) return "style";
  return undefined;
}

/** A structured-field string (RFC 8941 §3.3.3). */
const sfString = (text: string): string => `"${text.replace(/[\\"]/g, "\\$&")}"`;

/**
 * The `Use-As-Dictionary` value a versioned file is served with, or undefined when it has none.
 *
 * @example useAsDictionaryFor("/assets/app.3f9a1c2b.js") // 'match="/assets/app.*.js", match-dest=("script")'
 */
export function useAsDictionaryFor(path: string): string | undefined {
  const match = dictionaryMatchFor(path);
  if (match === undefined) return undefined;
  const dest = destinationOf(path);
  return `match=${sfString(match)}${dest === undefined ? "" : `, match-dest=(${sfString(dest)})`}`;
}

/**
 * The `match` of a `Use-As-Dictionary` value (from `_headers`), compiled; undefined when the value
 * has none or it is not a pattern this runtime can compile (the file is then nobody's dictionary).
 */
export function compileMatch(value: string): URLPattern | undefined {
  const m = /(?:^|,)\s*match\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(value);
  if (m?.[1] === undefined) return undefined;
  try {
    return new URLPattern({ pathname: m[1].replace(/\\(.)/g, "$1") });
  } catch {
    return undefined;
  }
}
