import db from "mime-db";

/** The media type of a file and whether compressing it is worth trying. */
export interface ContentTypeInfo {
  /** Full Content-Type value, parameters included: `text/css; charset=utf-8`. */
  readonly type: string;
  readonly compressible: boolean;
}

const UNKNOWN: ContentTypeInfo = Object.freeze({
  type: "application/octet-stream",
  compressible: false,
});

/**
 * Types we pin instead of trusting the db. RFC 9239 makes `text/javascript` the one JavaScript type
 * (mime-db also lists the obsolete `application/javascript` for `.js`).
 */
const PINNED: Readonly<Record<string, ContentTypeInfo>> = {
  js: { type: "text/javascript; charset=utf-8", compressible: true },
  mjs: { type: "text/javascript; charset=utf-8", compressible: true },
  cjs: { type: "text/javascript; charset=utf-8", compressible: true },
  wasm: { type: "application/wasm", compressible: true },
};

// Several types can claim one extension (`.mp4`, `.xml`, `.wav`); these rank the candidates. The order
// follows jshttp's `mime-score` (what `mime-types` uses), led by the source as the brief asks: IANA
// first, then types mime-db added itself, then Apache's and nginx's lists.
const SOURCE_RANK: Readonly<Record<string, number>> = { iana: 3, apache: 1, nginx: 0 };
const UNSOURCED_RANK = 2;
// RFC 6838 §3: the standards tree beats vendor (`vnd.`), personal (`prs.`) and unregistered (`x-`).
const FACET_RANK = (subtype: string): number => (/^(vnd\.|prs\.|x-|x\.)/.test(subtype) ? 0 : 1);
// application/xml over text/xml, video/mp4 over audio/mp4 over application/mp4 (RFC 4337 §2).
const TOP_LEVEL_RANK: Readonly<Record<string, number>> = {
  video: 3,
  audio: 2,
  font: 2,
  application: 1,
};

/** Larger is better; compared lexicographically. */
function rank(type: string): readonly number[] {
  const [top = "", subtype = ""] = type.split("/");
  return [
    SOURCE_RANK[db[type]?.source ?? ""] ?? UNSOURCED_RANK,
    FACET_RANK(subtype),
    TOP_LEVEL_RANK[top] ?? 0,
    -type.length, // all else equal, the shorter (more generic) name
  ];
}

function outranks(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return false;
}

/** Whether a type is worth compressing when mime-db has no opinion: text and structured text. */
function guessCompressible(type: string): boolean {
  return type.startsWith("text/") || type.endsWith("+json") || type.endsWith("+xml");
}

function describe(type: string): ContentTypeInfo {
  const entry = db[type];
  // `text/*` defaults to US-ASCII without a charset (RFC 6838 §4.2.1); web content is UTF-8.
  const utf8 = type.startsWith("text/") || entry?.charset?.toUpperCase() === "UTF-8";
  // mime-db flags octet-stream compressible, but it is what opaque binaries (`.exe`, `.iso`) map to.
  const compressible = type !== UNKNOWN.type && (entry?.compressible ?? guessCompressible(type));
  return Object.freeze({ type: utf8 ? `${type}; charset=utf-8` : type, compressible });
}

/** Built once at module load: lower-case extension -> info. */
const BY_EXTENSION: ReadonlyMap<string, ContentTypeInfo> = (() => {
  const best = new Map<string, { type: string; rank: readonly number[] }>();
  for (const [type, entry] of Object.entries(db)) {
    const r = rank(type);
    for (const ext of entry.extensions ?? []) {
      const current = best.get(ext);
      if (current === undefined || outranks(r, current.rank)) best.set(ext, { type, rank: r });
    }
  }
  const map = new Map<string, ContentTypeInfo>();
  for (const [ext, { type }] of best) map.set(ext, describe(type));
  for (const [ext, info] of Object.entries(PINNED)) map.set(ext, Object.freeze(info));
  return map;
})();

/** The lower-cased text after the last `.` of the last path segment, or "" when there is none. */
function extensionOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/**
 * The Content-Type for a file path, by extension (case-insensitive).
 *
 * @example contentTypeFor("/css/app.css") // { type: "text/css; charset=utf-8", compressible: true }
 * @example contentTypeFor("logo.PNG")     // { type: "image/png", compressible: false }
 * @example contentTypeFor("LICENSE")      // { type: "application/octet-stream", compressible: false }
 */
export function contentTypeFor(path: string): ContentTypeInfo {
  return BY_EXTENSION.get(extensionOf(path)) ?? UNKNOWN;
}
