import type { ContentCoding } from "./types.ts";

type HeaderSet = Readonly<Record<string, string>>;

// RFC 9110 §5.1 field-name = token; §5.5 field values are visible characters, spaces and tabs.
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Names an extra header may not set: memserve computes them per response, and a wrong one corrupts
 * framing (Content-Length), decoding (Content-Encoding), caches (ETag) or redirects (Location).
 * Vary is allowed: it is merged with the computed `accept-encoding`.
 */
const COMPUTED_ONLY = new Set([
  "content-length",
  "content-type",
  "content-encoding",
  "content-range",
  "transfer-encoding",
  "connection",
  "etag",
  "last-modified",
  "date",
  "accept-ranges",
  "location",
]);

/**
 * Throws a message fit for a user when `name: value` cannot be added to every response.
 *
 * @example checkExtraHeader("X-Frame-Options", "DENY") // ok
 * @example checkExtraHeader("Content-Length", "5") // throws "content-length cannot be set …"
 */
export function checkExtraHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new Error(`invalid header name: ${JSON.stringify(name)}`);
  if (!FIELD_VALUE.test(value)) throw new Error(`invalid value for header ${name}`);
  const lower = name.toLowerCase();
  if (COMPUTED_ONLY.has(lower)) {
    throw new Error(`${lower} cannot be set: memserve computes it per response`);
  }
}

/**
 * Validates (see `checkExtraHeader`), lower-cases and trims the configured extra headers once.
 *
 * @example normalizeExtraHeaders({ "X-Frame-Options": " DENY " }) // { "x-frame-options": "DENY" }
 */
export function normalizeExtraHeaders(extra: Readonly<Record<string, string>>): HeaderSet {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra)) {
    checkExtraHeader(name, value);
    out[name.toLowerCase()] = value.trim();
  }
  return Object.freeze(out);
}

/** What differs between the variants of one asset. */
export interface VariantFacts {
  readonly contentType: string;
  readonly encoding: ContentCoding;
  readonly size: number;
  readonly etag: string;
  /** IMF-fixdate (RFC 9110 §5.6.7). */
  readonly lastModified: string;
  /** "" for none. */
  readonly cacheControl: string;
  /** The request fields the choice among the asset's variants depends on (`varyFor`). */
  readonly vary: string | undefined;
}

/**
 * Vary for an asset (RFC 9110 §12.5.5): none with one variant; Accept-Encoding with several; and
 * Available-Dictionary too when it has deltas (RFC 9842 §6.2).
 */
export function varyFor(variants: number, hasDeltas: boolean): string | undefined {
  if (hasDeltas) return "accept-encoding, available-dictionary";
  return variants > 1 ? "accept-encoding" : undefined;
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
  if (facts.cacheControl !== "") headers["cache-control"] = facts.cacheControl;
  headers["accept-ranges"] = "bytes";
  if (facts.vary !== undefined) headers.vary = facts.vary;
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
  };
  if (facts.cacheControl !== "") headers["cache-control"] = facts.cacheControl;
  if (facts.vary !== undefined) headers.vary = facts.vary;
  return withExtras(headers, extra);
}
