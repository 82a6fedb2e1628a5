/**
 * Request-target -> snapshot key. The snapshot is a Map, so no path can reach the file system, but a
 * lenient decoder would still let `/a/%2e%2e/b`, `/a%2fb` and `/a/b` name different keys than a browser
 * resolves, and a `//evil.com` key would turn our own `/dir` -> `/dir/` redirect into an open redirect.
 * Hence one canonical decoded form, and 400 for anything ambiguous.
 */

export type PathResult =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly status: 400 };

const BAD: PathResult = { ok: false, status: 400 };

/** `%2f` / `%5c`: decoding them would merge a segment boundary that the client did not send. */
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;

/**
 * Decodes and normalises an origin-form request target (RFC 9112 §3.2.1, RFC 3986 §5.2.4).
 * `/a/%2e%2e/caf%C3%A9?x=1` -> `{ ok: true, path: "/café" }`; `/../etc/passwd` -> `{ ok: false, status: 400 }`.
 */
export function parsePath(target: string): PathResult {
  if (target.charCodeAt(0) !== 0x2f) return BAD;
  const raw = stripQueryAndFragment(target);
  if (ENCODED_SEPARATOR.test(raw)) return BAD;
  const decoded = decodeOnce(raw);
  if (decoded === null || !isSafeDecoded(decoded)) return BAD;
  const path = removeDotSegments(decoded);
  return path === null ? BAD : { ok: true, path };
}

/**
 * Percent-encodes a decoded path for a Location header or a URL: everything but unreserved characters,
 * `/`, sub-delims, `:` and `@` (RFC 3986 §3.3 pchar) is encoded, `%`, `?` and `#` always.
 * `/café/a b?.txt` -> `/caf%C3%A9/a%20b%3F.txt`. Inverse of parsePath for every path it returns.
 */
export function encodePath(path: string): string {
  // encodeURI already keeps exactly pchar + "/" + "?#"; the latter two would end the path.
  return encodeURI(path).replace(/[?#]/g, (c) => (c === "?" ? "%3F" : "%23"));
}

function stripQueryAndFragment(target: string): string {
  const q = target.indexOf("?");
  const h = target.indexOf("#");
  const end = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return end === -1 ? target : target.slice(0, end);
}

/**
 * Exactly one round of percent-decoding: `%252e` -> `%2e`. decodeURIComponent throws on `%zz`, `%4`
 * and on octets that are not well-formed UTF-8 (overlong forms, surrogates), which is what we want.
 */
function decodeOnce(raw: string): string | null {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** No backslash (Windows separator, `/\evil.com` redirects), no C0 control or DEL, no lone surrogate. */
function isSafeDecoded(decoded: string): boolean {
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return false;
  }
  // A raw (never-encoded) lone surrogate would make encodePath throw; it is not text anyway.
  return decoded.isWellFormed();
}

/**
 * Merges empty segments and resolves `.`/`..` after decoding; null when `..` climbs above the root.
 * A path ending in `/`, `/.` or `/..` names a directory, so it keeps a trailing slash.
 */
function removeDotSegments(decoded: string): string | null {
  const segments = decoded.split("/");
  const out: string[] = [];
  // segments[0] is the empty string before the leading "/".
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.pop() === undefined) return null;
      continue;
    }
    out.push(seg);
  }
  const last = segments[segments.length - 1];
  const trailing = last === "" || last === "." || last === "..";
  if (out.length === 0) return "/";
  return `/${out.join("/")}${trailing ? "/" : ""}`;
}
