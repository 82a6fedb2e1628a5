import type { Asset, ContentCoding, Snapshot, Variant } from "../snapshot/types.ts";
import { evaluatePreconditions, ifRangeMatches } from "./conditional.ts";
import { type LocateOptions, locate } from "./locate.ts";
import { chooseRepresentation, chooseVariant } from "./negotiate.ts";
import { parsePath } from "./path.ts";
import { type ByteRange, parseRange } from "./range.ts";
import { REASONS } from "./reasons.ts";

export type HeaderSet = Readonly<Record<string, string>>;

/** Read access to request header fields by lower-case name; Web `Headers` fits. */
export interface HeaderReader {
  get(name: string): string | null;
}

export interface HandlerOptions extends LocateOptions {
  /** Serve `/index.html` for unknown paths whose last segment has no extension (single-page apps). */
  readonly spa: boolean;
  /** A Range header with more ranges than this (after coalescing) is ignored: the whole body is sent. */
  readonly maxRanges: number;
  /** Answer CORS preflights (the CLI also adds Access-Control-Allow-Origin to every response). */
  readonly cors: boolean;
}

/** What `--cors` adds to every response: any origin may read, and see these response fields. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "Content-Length, Content-Range, ETag, Accept-Ranges",
};

export const DEFAULT_HANDLER_OPTIONS: HandlerOptions = {
  spa: false,
  maxRanges: 16,
  cors: false,
  cleanUrls: false,
  trailingSlash: undefined,
};

/** Methods a static snapshot supports (RFC 9110 §9.3); everything else is 405 with this Allow. */
export const ALLOW = "GET, HEAD, OPTIONS";

/**
 * What to answer, independent of the transport: the fetch adapter turns it into a `Response`, the
 * raw HTTP/1.1 engine into bytes it mostly prepared at load time.
 */
export type Outcome =
  /** A variant's whole body: 200, or 404 with the root 404.html. */
  | {
      readonly kind: "full";
      readonly status: 200 | 404;
      readonly variant: Variant<ContentCoding>;
      readonly headers: HeaderSet;
    }
  | { readonly kind: "not-modified"; readonly variant: Variant<ContentCoding> }
  /** 206: one range, or several as multipart/byteranges. */
  | {
      readonly kind: "partial";
      readonly variant: Variant<ContentCoding>;
      readonly asset: Asset;
      readonly ranges: readonly ByteRange[];
    }
  /** Errors (short text body), redirects and OPTIONS (no body). */
  | {
      readonly kind: "status";
      readonly status: number;
      readonly headers: HeaderSet;
      readonly text: string;
    };

/**
 * Decides the answer to one request from the snapshot, in the order of RFC 9110: method -> target
 * path -> selected representation (content coding) -> preconditions (§13.2.2) -> range (§14).
 * `target` is the origin-form request target as sent (`/a%20b.html?x=1`). Pure: no clock, no IO.
 */
export function decide(
  snapshot: Snapshot,
  method: string,
  target: string,
  headers: HeaderReader,
  options: HandlerOptions,
): Outcome {
  if (method !== "GET" && method !== "HEAD") return answerOtherMethod(snapshot, method, options);

  const parsed = parsePath(target);
  if (!parsed.ok) return statusOutcome(snapshot, 400);

  const asset = resolveAsset(snapshot, parsed.path, target, headers, options);
  if ("kind" in asset) return asset;

  const variant = chooseRepresentation(
    asset,
    headers.get("accept-encoding"),
    headers.get("available-dictionary"),
  );
  const precondition = evaluatePreconditions(
    {
      ifMatch: headers.get("if-match"),
      ifNoneMatch: headers.get("if-none-match"),
      ifModifiedSince: headers.get("if-modified-since"),
      ifUnmodifiedSince: headers.get("if-unmodified-since"),
    },
    variant.etag,
    asset.lastModified,
    method,
  );
  if (precondition === "not-modified") return { kind: "not-modified", variant };
  if (precondition === "precondition-failed") return statusOutcome(snapshot, 412);

  // RFC 9110 §14.2: GET is the only method for which range handling is defined; HEAD ignores Range.
  const range = method === "GET" ? headers.get("range") : null;
  if (range !== null) return decideRange(snapshot, asset, variant, range, headers, options);
  return { kind: "full", status: 200, variant, headers: variant.headers };
}

const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": ALLOW,
  "access-control-allow-headers":
    "Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range",
  "access-control-max-age": "86400",
};

function answerOtherMethod(snapshot: Snapshot, method: string, options: HandlerOptions): Outcome {
  const headers = { ...snapshot.extraHeaders, allow: ALLOW };
  // RFC 9110 §9.3.7: OPTIONS describes the communication options; no content is needed. With CORS
  // on it also answers preflights (Fetch standard §3.2.2) for the conditional and range headers.
  if (method === "OPTIONS") {
    const all = options.cors ? { ...headers, ...PREFLIGHT_HEADERS } : headers;
    return { kind: "status", status: 204, headers: all, text: "" };
  }
  return statusOutcome(snapshot, 405, headers);
}

/**
 * The asset a path serves, or the answer when it is not one: a file of the snapshot (`locate`);
 * else, or for a forced rule, the first matching `_redirects` rule (Netlify's shadowing); else
 * with --spa `/index.html` for an extension-less path; else a 404.
 */
function resolveAsset(
  snapshot: Snapshot,
  path: string,
  target: string,
  headers: HeaderReader,
  options: HandlerOptions,
): Asset | Outcome {
  const located = locate(snapshot, path, options);
  const redirects = snapshot.redirects;
  if (redirects !== undefined && (located === undefined || redirects.hasForced)) {
    const rule = redirects.find(path, queryOf(target), located !== undefined);
    if (rule?.kind === "redirect") return redirectOutcome(snapshot, rule.status, rule.location);
    if (rule !== undefined) {
      // Only files of the snapshot: a rewrite to a path it does not hold is a 404.
      const served = ruleTarget(snapshot, rule.path);
      if (served === undefined) return notFound(snapshot, headers);
      return rule.status === 404 ? notFoundOutcome(served, headers) : served;
    }
  }
  if (located?.kind === "asset") return located.asset;
  if (located !== undefined) {
    return redirectOutcome(snapshot, 301, `${located.location}${queryOf(target)}`);
  }
  const fallback = options.spa ? spaFallback(snapshot, path) : undefined;
  return fallback ?? notFound(snapshot, headers);
}

/** A rule's target names a file, or a directory (`dir/` or `dir`) for its index. */
function ruleTarget(snapshot: Snapshot, path: string): Asset | undefined {
  const { assets } = snapshot;
  if (path.endsWith("/")) return assets.get(`${path}index.html`);
  return assets.get(path) ?? assets.get(`${path}/index.html`);
}

/** With --spa, an unknown path whose last segment has no extension serves `/index.html`. */
function spaFallback(snapshot: Snapshot, path: string): Asset | undefined {
  const lastSegment = path.slice(path.lastIndexOf("/") + 1);
  if (lastSegment.includes(".")) return undefined;
  return snapshot.assets.get("/index.html");
}

/**
 * The request's query (`?a=1`), or "" when it has none or one a transport could not have
 * delivered (visible ASCII only, RFC 3986): an embedder's raw target must not put a CR or LF into
 * a Location.
 */
function queryOf(target: string): string {
  const queryStart = target.indexOf("?");
  const raw = queryStart === -1 ? "" : target.slice(queryStart);
  return /^[\x21-\x7e]*$/.test(raw) ? raw : "";
}

function redirectOutcome(snapshot: Snapshot, status: number, location: string): Outcome {
  return { kind: "status", status, headers: { ...snapshot.extraHeaders, location }, text: "" };
}

/** 404 with the root 404.html, or a short text. */
function notFound(snapshot: Snapshot, headers: HeaderReader): Outcome {
  const page = snapshot.notFoundPage;
  return page === undefined ? statusOutcome(snapshot, 404) : notFoundOutcome(page, headers);
}

/** `page`'s body with status 404 (the root 404.html, or a `_redirects` 404 rule's target). */
function notFoundOutcome(page: Asset, headers: HeaderReader): Outcome {
  const variant = chooseVariant(page.variants, headers.get("accept-encoding"));
  return { kind: "full", status: 404, variant, headers: notFoundHeadersOf(variant) };
}

const notFoundHeaders = new WeakMap<Variant, HeaderSet>();

/** The 404 page's headers without validators: they describe the page's file, not the missing URL. */
function notFoundHeadersOf(variant: Variant): HeaderSet {
  let headers = notFoundHeaders.get(variant);
  if (headers === undefined) {
    const { etag, "last-modified": _, "accept-ranges": __, ...rest } = variant.headers;
    headers = Object.freeze({ ...rest, "cache-control": "no-cache" });
    notFoundHeaders.set(variant, headers);
  }
  return headers;
}

function decideRange(
  snapshot: Snapshot,
  asset: Asset,
  variant: Variant<ContentCoding>,
  rangeHeader: string,
  headers: HeaderReader,
  options: HandlerOptions,
): Outcome {
  const full: Outcome = { kind: "full", status: 200, variant, headers: variant.headers };
  // RFC 9110 §13.1.5: a Range whose If-Range validator does not match is ignored; send it all.
  const ifRange = headers.get("if-range");
  if (ifRange !== null && !ifRangeMatches(ifRange, variant.etag, asset.lastModified)) return full;
  const result = parseRange(rangeHeader, variant.size, options.maxRanges);
  if (result.kind === "none") return full;
  if (result.kind === "unsatisfiable") {
    // RFC 9110 §15.5.17: a 416 names the current length of the selected representation.
    return statusOutcome(snapshot, 416, {
      ...snapshot.extraHeaders,
      "content-range": `bytes */${variant.size}`,
    });
  }
  return { kind: "partial", variant, asset, ranges: result.ranges };
}

/** A short plain-text answer (`404 Not Found\n`) with the configured extra headers. */
export function statusOutcome(
  snapshot: Snapshot,
  status: number,
  headers: HeaderSet = snapshot.extraHeaders,
): Outcome {
  const text = `${status} ${REASONS[status] ?? ""}\n`;
  return {
    kind: "status",
    status,
    headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
    text,
  };
}
