// Compression Dictionary Transport (RFC 9842): the two dictionary-compressed content codings and
// the request field that names the client's dictionary.
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { DeltaCoding } from "../snapshot/types.ts";

export const DELTA_CODINGS: readonly DeltaCoding[] = ["dcb", "dcz"];

/** §4.1: `dcb` streams start with these 4 bytes, then the dictionary's SHA-256. */
const DCB_MAGIC = Uint8Array.of(0xff, 0x44, 0x43, 0x42);
/** §4.2: a zstd skippable frame (magic 0x184D2A5E, 32 bytes of content), the SHA-256 its content. */
const DCZ_MAGIC = Uint8Array.of(0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00);

const { constants } = zlib;
const brotliCompress = promisify(zlib.brotliCompress);
const zstdCompress = promisify(zlib.zstdCompress);

/** SHA-256 of a dictionary's bytes: what `Available-Dictionary` carries. */
export function dictionaryHash(bytes: Uint8Array): Uint8Array {
  return new Bun.CryptoHasher("sha256").update(bytes).digest() as Uint8Array;
}

/** The structured-field byte sequence of a hash (RFC 8941 §3.3.5), as a header value. */
export function formatHash(hash: Uint8Array): string {
  return `:${Buffer.from(hash).toString("base64")}:`;
}

/**
 * The dictionary hash of an `Available-Dictionary` value (RFC 9842 §2.2: a byte sequence,
 * `:<base64>:`), as its base64 text (the key deltas are stored under); undefined for anything
 * else, which the request is then served as if it had not sent.
 *
 * @example parseAvailableDictionary(":pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=:") // "pZGm1Av0…FG4="
 * @example parseAvailableDictionary("pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=")   // undefined
 */
export function parseAvailableDictionary(value: string | null): string | undefined {
  if (value === null) return undefined;
  const m = /^[ \t]*:([A-Za-z0-9+/]{43}=):[ \t]*$/.exec(value);
  return m?.[1];
}

/** log2 of a window that covers `bytes` bytes, between `min` and `max` bits. */
const bitsFor = (bytes: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, Math.ceil(Math.log2(bytes + 1))));

/**
 * `data` coded against `dictionary` (RFC 9842 §4), at maximum quality. The window covers the
 * dictionary and the data, within what clients must accept: brotli's standard 16 MiB (24 bits),
 * and for zstd the larger of 8 MiB and 1.25 times the dictionary (§4.2).
 *
 * @example await encodeDelta("dcz", v1, v2) // 5e 2a 4d 18 20 00 00 00, sha256(v1), zstd frame
 */
export async function encodeDelta(
  coding: DeltaCoding,
  dictionary: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const hash = dictionaryHash(dictionary);
  const span = dictionary.length + data.length;
  let body: Uint8Array;
  if (coding === "dcb") {
    body = await brotliCompress(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_LGWIN]: bitsFor(span, 10, 24),
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
      dictionary,
    } as zlib.BrotliOptions);
  } else {
    const limit = Math.max(8 << 20, Math.floor(dictionary.length * 1.25));
    const windowLog = Math.min(bitsFor(span, 10, 31), Math.floor(Math.log2(limit)));
    body = await zstdCompress(data, {
      params: {
        [constants.ZSTD_c_compressionLevel]: 19,
        [constants.ZSTD_c_windowLog]: windowLog,
        [constants.ZSTD_c_checksumFlag]: 1,
      },
      dictionary,
    } as zlib.ZstdOptions);
  }
  const magic = coding === "dcb" ? DCB_MAGIC : DCZ_MAGIC;
  const out = new Uint8Array(magic.length + hash.length + body.length);
  out.set(magic, 0);
  out.set(hash, magic.length);
  out.set(body, magic.length + hash.length);
  return out;
}

/**
 * The data of a `dcb` or `dcz` body, decoded with `dictionary`; throws when the header does not
 * name that dictionary. What a client does; the tests check every delta with it.
 */
export function decodeDelta(
  coding: DeltaCoding,
  dictionary: Uint8Array,
  body: Uint8Array,
): Uint8Array {
  const magic = coding === "dcb" ? DCB_MAGIC : DCZ_MAGIC;
  const hash = dictionaryHash(dictionary);
  const head = body.subarray(0, magic.length + hash.length);
  const expected = new Uint8Array(head.length);
  expected.set(magic, 0);
  expected.set(hash, magic.length);
  if (!Buffer.from(head).equals(expected))
    throw new Error(`not a ${coding} body for this dictionary`);
  const rest = body.subarray(head.length);
  return coding === "dcb"
    ? zlib.brotliDecompressSync(rest, { dictionary } as zlib.BrotliOptions)
    : zlib.zstdDecompressSync(rest, { dictionary });
}
