import type { Encoding } from "./types.ts";

type HeaderSet = Readonly<Record<string, string>>;

// RFC 9110 §5.1 field-name = token; §5.5 field values must not contain CR, LF or NUL.
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
const BAD_VALUE = /[\r\n\0]/;

/**
 * Names an extra header may not set: they describe the bytes of each variant, and a wrong one
 * corrupts framing (Content-Length), decoding (Content-Encoding) or caches (ETag).
 */
const COMPUTED_ONLY = new Set(["content-length", "content-encoding", "transfer-encoding", "etag"]);

/**
 * Validates and lower-cases the configured extra headers once. Throws on a name or value that
 * would make every response fail; drops (with a warning) those that must stay computed.
 *
 * @example normalizeExtraHeaders({ "X-Frame-Options": "DENY" }, warn) // { "x-frame-options": "DENY" }
 */
export function normalizeExtraHeaders(
  extra: Readonly<Record<string, string>>,
  onWarning: (message: string) => void,
): HeaderSet {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra)) {
    if (!TOKEN.test(name)) throw new Error(`invalid header name: ${JSON.stringify(name)}`);
    if (BAD_VALUE.test(value)) throw new Error(`invalid value for header ${name}`);
    const lower = name.toLowerCase();
    if (COMPUTED_ONLY.has(lower)) {
      onWarning(`ignored extra header ${lower}: memserve computes it per file`);
      continue;
    }
    out[lower] = value.trim();
  }
  return Object.freeze(out);
}

/** What differs between the variants of one asset. */
export interface VariantFacts {
  readonly contentType: string;
  readonly encoding: Encoding;
  readonly size: number;
  readonly etag: string;
  /** IMF-fixdate (RFC 9110 §5.6.7). */
  readonly lastModified: string;
  readonly cacheControl: string;
  /** True when the asset has more than one variant (RFC 9110 §12.5.5). */
  readonly varies: boolean;
}

/** Adds the extras after the computed fields; Vary is merged, not replaced. */
function withExtras(base: Record<string, string>, extra: HeaderSet): HeaderSet {
  for (const [name, value] of Object.entries(extra)) {
    base[name] = name === "vary" && base.vary !== undefined ? `${base.vary}, ${value}` : value;
  }
  return Object.freeze(base);
}

/**
 * The full header set of a 200 for one variant, lower-case names.
 *
 * @example okHeaders({ contentType: "text/css", encoding: "br", size: 120, ... }, {})
 *   // { "content-type": "text/css", "content-length": "120", "content-encoding": "br", etag, ... }
 */
export function okHeaders(facts: VariantFacts, extra: HeaderSet): HeaderSet {
  const headers: Record<string, string> = {
    "content-type": facts.contentType,
    "content-length": String(facts.size),
  };
  if (facts.encoding !== "identity") headers["content-encoding"] = facts.encoding;
  headers.etag = facts.etag;
  headers["last-modified"] = facts.lastModified;
  headers["cache-control"] = facts.cacheControl;
  headers["accept-ranges"] = "bytes";
  if (facts.varies) headers.vary = "accept-encoding";
  return withExtras(headers, extra);
}

/**
 * The header set of a 304 (RFC 9110 §15.4.5): the fields a 200 would carry that let a cache update
 * its stored response (ETag, Cache-Control, Vary), plus Last-Modified and the extras; no
 * representation metadata such as Content-Length or Content-Type.
 */
export function notModifiedHeaders(facts: VariantFacts, extra: HeaderSet): HeaderSet {
  const headers: Record<string, string> = {
    etag: facts.etag,
    "last-modified": facts.lastModified,
    "cache-control": facts.cacheControl,
  };
  if (facts.varies) headers.vary = "accept-encoding";
  return withExtras(headers, extra);
}
