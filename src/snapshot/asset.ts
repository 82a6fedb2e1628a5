import { serializeHead } from "../http/http1-head.ts";
import type { EncodedBytes } from "./encode.ts";
import { strongEtag } from "./etag.ts";
import { notModifiedHeaders, okHeaders, type VariantFacts, varyFor } from "./headers.ts";
import { takeHeadroom } from "./read-file.ts";
import {
  type Asset,
  type ContentCoding,
  type DeltaCoding,
  ENCODINGS,
  type Encoding,
  type Variant,
} from "./types.ts";

/** A delta of the file against one dictionary (RFC 9842), made by `encodeDelta`. */
export interface DeltaInput {
  /** The dictionary's SHA-256, base64. */
  readonly dictionary: string;
  readonly coding: DeltaCoding;
  readonly bytes: Uint8Array;
}

const NO_DELTAS: ReadonlyMap<string, readonly Variant<DeltaCoding>[]> = Object.freeze(new Map());

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
  /** Deltas against earlier versions, each kept only when smaller than every stored variant. */
  readonly deltas?: readonly DeltaInput[] | undefined;
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
  const deltas = input.deltas ?? [];
  const vary = varyFor(input.encoded.length, deltas.length > 0);
  const previous = input.previous;
  const previousVary = previous && varyFor(previous.variants.length, previous.deltas.size > 0);
  const reusable = previousVary === vary ? previous : undefined;
  const make = <C extends ContentCoding>(encoding: C, bytes: Uint8Array): Variant<C> => {
    const etag = strongEtag(bytes, encoding);
    const facts: VariantFacts = {
      contentType: input.contentType,
      encoding,
      size: bytes.length,
      etag,
      lastModified: lastModifiedText,
      cacheControl: input.cacheControl,
      vary,
    };
    const headers = okHeaders(facts, input.extraHeaders);
    // The complete 200 response in one buffer: the head, then the body. The HTTP/1.1 engine sends
    // a response with one write straight from here (refreshing the Date in place); `bytes` is a
    // view of the body, so nothing is stored twice. A file read with headroom gets its head in
    // front of the bytes as read; other bodies (compressor output) are copied once.
    const head = serializeHead(200, headers, new Date(lastModified).toUTCString());
    const headLength = Buffer.byteLength(head, "latin1");
    const response = takeHeadroom(bytes, headLength) ?? copyAfter(headLength, bytes);
    response.write(head, 0, "latin1");
    return makeVariant({
      encoding,
      response,
      headLength,
      etag,
      headers,
      notModifiedHeaders: notModifiedHeaders(facts, input.extraHeaders),
    });
  };
  const variants = [...input.encoded]
    .sort(bySizeThenPreference)
    .map((e) => reusable?.variants.find((v) => v.bytes === e.bytes) ?? make(e.encoding, e.bytes));
  const identity = variants.find((v) => v.encoding === "identity");
  if (identity === undefined) throw new Error(`no identity variant for ${input.path}`);
  return Object.freeze({
    path: input.path,
    contentType: input.contentType,
    lastModified,
    variants: Object.freeze(variants),
    identity,
    deltas: deltasOf(deltas, reusable, make),
    atMaximum: input.atMaximum ?? true,
    source: input.source ?? "",
    extraHeaders: input.extraHeaders,
  });
}

/** The deltas by dictionary, ascending by size; an unchanged one is the previous object. */
function deltasOf(
  deltas: readonly DeltaInput[],
  reusable: Asset | undefined,
  make: (coding: DeltaCoding, bytes: Uint8Array) => Variant<DeltaCoding>,
): ReadonlyMap<string, readonly Variant<DeltaCoding>[]> {
  return byDictionary(
    deltas.map((delta) => {
      const kept = reusable?.deltas.get(delta.dictionary)?.find((v) => v.bytes === delta.bytes);
      return [delta.dictionary, kept ?? make(delta.coding, delta.bytes)] as const;
    }),
  );
}

/** Deltas grouped by their dictionary's hash, each list ascending by size (`createAsset`, `readImage`). */
export function byDictionary(
  deltas: Iterable<readonly [string, Variant<DeltaCoding>]>,
): ReadonlyMap<string, readonly Variant<DeltaCoding>[]> {
  const map = new Map<string, Variant<DeltaCoding>[]>();
  for (const [dictionary, variant] of deltas) {
    const list = map.get(dictionary);
    if (list === undefined) map.set(dictionary, [variant]);
    else list.push(variant);
  }
  if (map.size === 0) return NO_DELTAS;
  for (const list of map.values()) list.sort((a, b) => a.size - b.size);
  return Object.freeze(map);
}

/** Every stored response of an asset: its variants, then its deltas with their dictionary. */
export function* storedVariants(
  asset: Asset,
): Generator<{ readonly variant: Variant<ContentCoding>; readonly dictionary?: string }> {
  for (const variant of asset.variants) yield { variant };
  for (const [dictionary, list] of asset.deltas) {
    for (const variant of list) yield { variant, dictionary };
  }
}

/** What a variant is made of, whoever made its response buffer (`createAsset`, `readImage`). */
export interface VariantParts<C extends ContentCoding = Encoding> {
  readonly encoding: C;
  /** The complete 200 response: `headLength` bytes of head, then the body. */
  readonly response: Uint8Array;
  readonly headLength: number;
  readonly etag: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly notModifiedHeaders: Readonly<Record<string, string>>;
}

export function makeVariant<C extends ContentCoding>(parts: VariantParts<C>): Variant<C> {
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
