/** Cache-Control for content-addressed files: the name changes whenever the bytes do (RFC 8246). */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * HTML is the entry point that names the hashed assets, so it must be revalidated on every use
 * (RFC 9111 §5.2.2.4); the strong ETag makes that a cheap 304.
 */
export const REVALIDATE = "no-cache";

export interface CachePolicyOptions {
  /** Seconds for files that are neither hashed nor HTML. */
  readonly maxAge: number;
  /** When set, used for every file as is (`--cache-control`). */
  readonly override: string | undefined;
}

// Trailing parts after the hash: `.js`, `.min.js`, `.css.map`, `.woff2`. Short so that a hash (8+
// characters) is never mistaken for one; at most three so `a.1.2.3.4.js` stays a name.
const EXTENSION = /^[A-Za-z0-9]{1,5}$/;
const MAX_EXTENSIONS = 3;

// Webpack `[contenthash]`, Parcel, Hugo, Rails: 8 or more hex digits, one case.
const HEX_TOKEN = /[.-]([0-9a-f]{8,}|[0-9A-F]{8,})$/;
// Rollup/Vite `[hash]` (base64url) and esbuild (base32): exactly 8 characters, which may themselves
// contain `-` and `_`; the character before them must be a delimiter.
const SHORT_TOKEN = /[.-]([A-Za-z0-9_-]{8})$/;

/**
 * Directories whose files frameworks name by content, so every file there is immutable: Next.js,
 * SvelteKit, Astro, Nuxt (not `_nuxt/builds/`, whose `latest.json` changes every deploy).
 */
const IMMUTABLE_DIRS = /\/(?:_next\/static|_app\/immutable|_astro|_nuxt(?!\/builds\/))\//;

/** Vite's output directory for hashed assets (`build.assetsDir`). */
const ASSETS_DIR = /\/assets\//;

/** The name without its trailing extension-like parts: `app.3f9a1c2b.min.js` -> `app.3f9a1c2b`. */
function stemOf(fileName: string): string | undefined {
  const parts = fileName.split(".");
  if (parts.length < 2) return undefined; // no extension: not an asset a bundler emits
  let end = parts.length - 1; // the last part is always the extension
  while (end > 1 && parts.length - end < MAX_EXTENSIONS && EXTENSION.test(parts[end - 1] ?? "")) {
    end--;
  }
  return parts.slice(0, end).join(".");
}

/** How often the character class (lower case, upper case, digit, other) changes along `token`. */
function classChanges(token: string): number {
  const classOf = (c: string) => (/[a-z]/.test(c) ? 0 : /[A-Z]/.test(c) ? 1 : /\d/.test(c) ? 2 : 3);
  let changes = 0;
  for (let i = 1; i < token.length; i++) {
    if (classOf(token[i] as string) !== classOf(token[i - 1] as string)) changes++;
  }
  return changes;
}

/**
 * Whether a file name carries a content hash right before its extension(s).
 *
 * - Anywhere: a `.` or `-` delimited segment of 8+ hex digits, one case, with at least one digit
 *   and one letter (webpack `[contenthash]`).
 * - With `shortHashes` (in Vite's `assets/` directory): exactly 8 base64url characters with an
 *   upper-case letter and at least four changes between lower case, upper case and digits
 *   (`index-BXmT3kLp.js` has six, `cover-MyPhotos.png` three). Elsewhere such a token is as likely a name (`banner-Spring24.jpg`);
 *   marking a file immutable when it can change is far worse than a missed hash, which only costs
 *   a revalidation.
 *
 * Known misses: bare hashes with no name (`3f9a1c2b.js`), short hashes outside `assets/`, hashes
 * followed by a word of 6+ letters (`main.3f9a1c2b.bundle.js`) and query-string versioning
 * (`app.js?v=3`).
 *
 * @example isHashedName("app.3f9a1c2b.js", false)      // true
 * @example isHashedName("index-BkQ1rX9a.js", true)     // true
 * @example isHashedName("banner-Spring24.jpg", true)   // false
 * @example isHashedName("jquery-3.7.1.min.js", false)  // false
 */
export function isHashedName(fileName: string, shortHashes: boolean): boolean {
  return hashTokenOf(fileName, shortHashes) !== undefined;
}

/**
 * Where the content hash of a hashed name (`isHashedName`) stands in it, as `[start, end)`.
 *
 * @example hashTokenOf("app.3f9a1c2b.js", false) // [4, 12]
 */
export function hashTokenOf(
  fileName: string,
  shortHashes: boolean,
): readonly [number, number] | undefined {
  const stem = stemOf(fileName);
  if (stem === undefined) return undefined;
  const at = (token: string): readonly [number, number] => [
    stem.length - token.length,
    stem.length,
  ];
  const hex = HEX_TOKEN.exec(stem)?.[1];
  // Digits and letters both: `20240115` is a date and `deadbeef` a word, not hashes.
  if (hex !== undefined && /\d/.test(hex) && /[a-f]/i.test(hex)) return at(hex);
  if (!shortHashes) return undefined;
  const short = SHORT_TOKEN.exec(stem)?.[1];
  return short !== undefined && /[A-Z]/.test(short) && classChanges(short) >= 4
    ? at(short)
    : undefined;
}

/**
 * Where the content hash stands in a URL path, as `[start, end)` of `path`: a hashed name outside
 * HTML; in Vite's `assets/` and the frameworks' immutable directories short hashes count too.
 *
 * @example hashInPath("/assets/index-BXmT3kLp.js") // [14, 22]
 * @example hashInPath("/logo-2024.png")            // undefined
 */
export function hashInPath(path: string): readonly [number, number] | undefined {
  const nameAt = path.lastIndexOf("/") + 1;
  const fileName = path.slice(nameAt);
  if (/\.x?html?$/i.test(fileName)) return undefined;
  const token = hashTokenOf(fileName, ASSETS_DIR.test(path) || IMMUTABLE_DIRS.test(path));
  return token && [nameAt + token[0], nameAt + token[1]];
}

/**
 * Whether a URL path names its content, so its bytes never change under it: a file in a
 * framework's immutable directory, or a hashed name (`isHashedName`). HTML never is: it is the
 * entry point that names the rest.
 *
 * @example isContentAddressed("/_astro/index.Cx8vY2dL.css")   // true
 * @example isContentAddressed("/assets/index-BXmT3kLp.js")    // true
 * @example isContentAddressed("/banner-Spring24.jpg")         // false
 */
export function isContentAddressed(path: string): boolean {
  const fileName = path.slice(path.lastIndexOf("/") + 1);
  if (/\.x?html?$/i.test(fileName)) return false;
  if (IMMUTABLE_DIRS.test(path)) return true;
  return isHashedName(fileName, ASSETS_DIR.test(path));
}

/**
 * The Cache-Control value for a file.
 *
 * @example const opts = { maxAge: 3600, override: undefined };
 * @example cacheControlFor("/assets/app.3f9a1c2b.js", "text/javascript", opts) // IMMUTABLE
 * @example cacheControlFor("/index.html", "text/html; charset=utf-8", opts)     // "no-cache"
 * @example cacheControlFor("/logo.svg", "image/svg+xml", opts)  // "public, max-age=3600"
 */
export function cacheControlFor(
  path: string,
  contentType: string,
  options: CachePolicyOptions,
): string {
  if (options.override !== undefined) return options.override;
  if (isContentAddressed(path)) return IMMUTABLE;
  if (/^text\/html\s*(;|$)/i.test(contentType)) return REVALIDATE;
  return `public, max-age=${Math.max(0, Math.floor(options.maxAge))}`;
}
