import { serializeHead } from "../http/http1-head.ts";
import type { EncodedBytes } from "./encode.ts";
import { strongEtag } from "./etag.ts";
import { notModifiedHeaders, okHeaders } from "./headers.ts";
import { takeHeadroom } from "./read-file.ts";
import { type Asset, ENCODINGS, type Encoding, type Variant } from "./types.ts";

export interface AssetInput {
  /** Decoded URL path: `/css/app.css`. */
  readonly path: string;
  readonly contentType: string;
  readonly mtimeMs: number;
  /** "" for none (a `_headers` rule removed it). */
  readonly cacheControl: string;
  /** Identity plus the kept codings, in any order; must contain identity. */
  readonly encoded: readonly EncodedBytes[];
  /** Already normalized (`normalizeExtraHeaders`). */
  readonly extraHeaders: Readonly<Record<string, string>>;
  /** Default true: no coding below maximum quality. */
  readonly atMaximum?: boolean;
  /** Default "": matches no scan, so a reload rebuilds the asset. */
  readonly source?: string;
  /**
   * The same file's asset so far (same path, type, mtime and headers), when re-encoding it: a
   * variant whose bytes and Vary are unchanged is reused as is (same ETag, same prepared response).
   */
  readonly previous?: Asset | undefined;
}

/**
 * Smallest first, so the first acceptable variant is the server's choice; on equal sizes the
 * order of `ENCODINGS` (br, zstd, gzip, identity), so identity is last.
 */
function bySizeThenPreference(a: EncodedBytes, b: EncodedBytes): number {
  return (
    a.bytes.length - b.bytes.length || ENCODINGS.indexOf(a.encoding) - ENCODINGS.indexOf(b.encoding)
  );
}

/**
 * Turns one file's encodings into a frozen `Asset`: one Blob, ETag and pair of header sets per
 * variant, computed here so a request only looks them up.
 *
 * @example createAsset({ path: "/a.css", contentType: "text/css; charset=utf-8", mtimeMs, cacheControl,
 *            encoded: [{ encoding: "identity", bytes }], extraHeaders: {} }).identity.etag // "\"…\""
 */
export function createAsset(input: AssetInput): Asset {
  // HTTP dates have whole seconds; comparing If-Modified-Since against a finer time would never
  // match. A future mtime must become "now" (RFC 9110 §8.8.2.1), and every response is sent later.
  // Re-encoding keeps the earlier value: a future mtime clamped to an earlier "now" must not change.
  const lastModified =
    input.previous?.lastModified ?? Math.floor(Math.min(input.mtimeMs, Date.now()) / 1000) * 1000;
  const lastModifiedText = new Date(lastModified).toUTCString();
  const varies = input.encoded.length > 1;
  const previousVaries = (input.previous?.variants.length ?? 0) > 1;
  const reusable = previousVaries === varies ? input.previous : undefined;
  const variants = [...input.encoded].sort(bySizeThenPreference).map((e): Variant => {
    const same = reusable?.variants.find((v) => v.bytes === e.bytes);
    if (same !== undefined) return same;
    const etag = strongEtag(e.bytes, e.encoding);
    const facts = {
      contentType: input.contentType,
      encoding: e.encoding,
      size: e.bytes.length,
      etag,
      lastModified: lastModifiedText,
      cacheControl: input.cacheControl,
      varies,
    };
    const headers = okHeaders(facts, input.extraHeaders);
    // The complete 200 response in one buffer: the head, then the body. The HTTP/1.1 engine sends
    // a response with one write straight from here (refreshing the Date in place); `bytes` is a
    // view of the body, so nothing is stored twice. A file read with headroom gets its head in
    // front of the bytes as read; other bodies (compressor output) are copied once.
    const head = serializeHead(200, headers, new Date(lastModified).toUTCString());
    const headLength = Buffer.byteLength(head, "latin1");
    const response = takeHeadroom(e.bytes, headLength) ?? copyAfter(headLength, e.bytes);
    response.write(head, 0, "latin1");
    return makeVariant({
      encoding: e.encoding,
      response,
      headLength,
      etag,
      headers,
      notModifiedHeaders: notModifiedHeaders(facts, input.extraHeaders),
    });
  });
  const identity = variants.find((v) => v.encoding === "identity");
  if (identity === undefined) throw new Error(`no identity variant for ${input.path}`);
  return Object.freeze({
    path: input.path,
    contentType: input.contentType,
    lastModified,
    variants: Object.freeze(variants),
    identity,
    atMaximum: input.atMaximum ?? true,
    source: input.source ?? "",
    extraHeaders: input.extraHeaders,
  });
}

/** What a variant is made of, whoever made its response buffer (`createAsset`, `readImage`). */
export interface VariantParts {
  readonly encoding: Encoding;
  /** The complete 200 response: `headLength` bytes of head, then the body. */
  readonly response: Uint8Array;
  readonly headLength: number;
  readonly etag: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly notModifiedHeaders: Readonly<Record<string, string>>;
}

export function makeVariant(parts: VariantParts): Variant {
  const bytes = parts.response.subarray(parts.headLength);
  let blob: Blob | undefined;
  return Object.freeze({
    encoding: parts.encoding,
    bytes,
    response: parts.response,
    // Only the fetch adapter needs a Blob (creating one copies the bytes once): built on first
    // use, then every response shares its store.
    get body() {
      blob ??= new Blob([bytes]);
      return blob;
    },
    size: bytes.length,
    etag: parts.etag,
    headers: parts.headers,
    notModifiedHeaders: parts.notModifiedHeaders,
  });
}

function copyAfter(headLength: number, body: Uint8Array): Buffer {
  const response = Buffer.allocUnsafe(headLength + body.length);
  response.set(body, headLength);
  return response;
}
