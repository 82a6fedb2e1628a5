import type { Asset, Snapshot, Variant } from "../snapshot/types.ts";
import { evaluatePreconditions, ifRangeMatches } from "./conditional.ts";
import { httpDate } from "./http-date.ts";
import { chooseVariant } from "./negotiate.ts";
import { encodePath, parsePath } from "./path.ts";
import { contentRange, createMultipartBody, parseRange } from "./range.ts";

export interface HandlerOptions {
  /** Serve `/index.html` for unknown paths whose last segment has no extension (single-page apps). */
  readonly spa: boolean;
  /** A Range header with more ranges than this (after coalescing) is ignored: the whole body is sent. */
  readonly maxRanges: number;
  /** Answer CORS preflights (the CLI also adds Access-Control-Allow-Origin to every response). */
  readonly cors: boolean;
}

export const DEFAULT_HANDLER_OPTIONS: HandlerOptions = { spa: false, maxRanges: 16, cors: false };

/** Methods a static snapshot supports (RFC 9110 §9.3); everything else is 405 with this Allow. */
export const ALLOW = "GET, HEAD, OPTIONS";

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  412: "Precondition Failed",
  416: "Range Not Satisfiable",
  500: "Internal Server Error",
};

// One boundary per process is enough: it only has to be absent from the parts' headers and bodies
// with overwhelming probability (RFC 2046 §5.1.1), and 24 random hex digits are.
const BOUNDARY = `memserve-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

type Resolution =
  | { readonly kind: "asset"; readonly asset: Asset }
  | { readonly kind: "redirect"; readonly location: string }
  | { readonly kind: "missing" };

/**
 * Answers one request from the snapshot, in the order of RFC 9110: method -> target path ->
 * selected representation (content coding) -> preconditions (§13.2.2) -> range (§14) -> response.
 * Pure apart from reading the clock for Date; never touches the filesystem.
 */
export function handleRequest(
  snapshot: Snapshot,
  request: Request,
  options: HandlerOptions,
): Response {
  const method = request.method;
  if (method !== "GET" && method !== "HEAD") return answerOtherMethod(snapshot, method, options);

  const target = originForm(request.url);
  const parsed = parsePath(target);
  if (!parsed.ok) return createStatusResponse(snapshot, 400, method);

  const found = resolve(snapshot, parsed.path, queryOf(target), options.spa);
  if (found.kind === "redirect") {
    return respond(method, null, 301, { ...snapshot.extraHeaders, location: found.location });
  }
  if (found.kind === "missing") return createNotFoundResponse(snapshot, request, method);

  const asset = found.asset;
  const headers = request.headers;
  const variant = chooseVariant(asset.variants, headers.get("accept-encoding"));

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
  if (precondition === "not-modified") {
    return respond(method, null, 304, variant.notModifiedHeaders);
  }
  if (precondition === "precondition-failed") return createStatusResponse(snapshot, 412, method);

  // RFC 9110 §14.2: GET is the only method for which range handling is defined; HEAD ignores Range.
  const range = method === "GET" ? headers.get("range") : null;
  if (range !== null) return serveRange(snapshot, asset, variant, request, range, options);
  return respond(method, variant.body, 200, variant.headers);
}

/** `http://host:80/a/b?q` -> `/a/b?q`: Bun hands over an absolute URL already normalized. */
function originForm(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  return pathStart === -1 ? "/" : url.slice(pathStart);
}

function queryOf(target: string): string {
  const start = target.indexOf("?");
  return start === -1 ? "" : target.slice(start);
}

const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": ALLOW,
  "access-control-allow-headers":
    "Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range",
  "access-control-max-age": "86400",
};

function answerOtherMethod(snapshot: Snapshot, method: string, options: HandlerOptions): Response {
  const headers = { ...snapshot.extraHeaders, allow: ALLOW };
  // RFC 9110 §9.3.7: OPTIONS describes the communication options; no content is needed. With CORS
  // on it also answers preflights (Fetch standard §3.2.2) for the conditional and range headers.
  if (method === "OPTIONS") {
    return new Response(null, {
      status: 204,
      headers: options.cors ? { ...headers, ...PREFLIGHT_HEADERS } : headers,
    });
  }
  return createStatusResponse(snapshot, 405, method, headers);
}

/**
 * Maps a decoded path to what to send. `/dir/` serves `dir/index.html`; `/dir` redirects to `dir/`
 * with a relative Location (`./dir/`) so it can never be read as another origin (`//evil.com`).
 */
function resolve(snapshot: Snapshot, path: string, query: string, spa: boolean): Resolution {
  const assets = snapshot.assets;
  const direct = assets.get(path.endsWith("/") ? `${path}index.html` : path);
  if (direct !== undefined) return { kind: "asset", asset: direct };

  const lastSegment = path.slice(path.lastIndexOf("/") + 1);
  if (lastSegment !== "" && assets.has(`${path}/index.html`)) {
    return { kind: "redirect", location: `./${encodePath(lastSegment)}/${query}` };
  }
  if (spa && !lastSegment.includes(".")) {
    const index = assets.get("/index.html");
    if (index !== undefined) return { kind: "asset", asset: index };
  }
  return { kind: "missing" };
}

function serveRange(
  snapshot: Snapshot,
  asset: Asset,
  variant: Variant,
  request: Request,
  rangeHeader: string,
  options: HandlerOptions,
): Response {
  // RFC 9110 §13.1.5: a Range whose If-Range validator does not match is ignored; send it all.
  const ifRange = request.headers.get("if-range");
  if (ifRange !== null && !ifRangeMatches(ifRange, variant.etag, asset.lastModified)) {
    return respond("GET", variant.body, 200, variant.headers);
  }
  const result = parseRange(rangeHeader, variant.size, options.maxRanges);
  if (result.kind === "none") return respond("GET", variant.body, 200, variant.headers);
  if (result.kind === "unsatisfiable") {
    // RFC 9110 §15.5.17: a 416 names the current length of the selected representation.
    return createStatusResponse(snapshot, 416, "GET", {
      ...snapshot.extraHeaders,
      "content-range": `bytes */${variant.size}`,
    });
  }
  const [first, ...rest] = result.ranges;
  if (first !== undefined && rest.length === 0) {
    const headers = {
      ...variant.headers,
      "content-range": contentRange(first, variant.size),
      "content-length": String(first.end - first.start + 1),
    };
    return new Response(variant.body.slice(first.start, first.end + 1), { status: 206, headers });
  }
  const multipart = createMultipartBody(
    variant.body,
    result.ranges,
    asset.contentType,
    variant.size,
    BOUNDARY,
  );
  const headers = {
    ...variant.headers,
    "content-type": multipart.contentType,
    "content-length": String(multipart.length),
  };
  return new Response(multipart.body, { status: 206, headers });
}

const notFoundHeaders = new WeakMap<Variant, Readonly<Record<string, string>>>();

/** The root `404.html` (negotiated like any asset) when there is one, else a short text body. */
function createNotFoundResponse(snapshot: Snapshot, request: Request, method: string): Response {
  const page = snapshot.notFoundPage;
  if (page === undefined) return createStatusResponse(snapshot, 404, method);
  const variant = chooseVariant(page.variants, request.headers.get("accept-encoding"));
  let headers = notFoundHeaders.get(variant);
  if (headers === undefined) {
    // Validators describe the 404 page's file, not the missing resource, so they are left out.
    const { etag, "last-modified": _, "accept-ranges": __, ...rest } = variant.headers;
    headers = { ...rest, "cache-control": "no-cache" };
    notFoundHeaders.set(variant, headers);
  }
  return respond(method, variant.body, 404, headers);
}

/** A short plain-text answer for errors and redirects, with the configured extra headers. */
export function createStatusResponse(
  snapshot: Snapshot,
  status: number,
  method: string,
  headers: Readonly<Record<string, string>> = snapshot.extraHeaders,
): Response {
  const text = `${status} ${REASONS[status] ?? ""}\n`;
  return respond(method, text, status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(text.length),
  });
}

/**
 * Builds the response; for HEAD the same headers without a body (RFC 9110 §9.3.2). Bun omits Date on
 * answers to HEAD, so it is added here (RFC 9110 §6.6.1: an origin server with a clock sends Date).
 */
function respond(
  method: string,
  body: Blob | string | null,
  status: number,
  headers: Readonly<Record<string, string>>,
): Response {
  if (method === "HEAD") {
    return new Response(null, { status, headers: { ...headers, date: httpDate() } });
  }
  return new Response(body, { status, headers });
}
