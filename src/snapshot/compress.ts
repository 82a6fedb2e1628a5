import { promisify } from "node:util";
import zlib from "node:zlib";

/** The content codings memserve produces (RFC 9110 §8.4.1; zstd is RFC 8878). */
export type Coding = "br" | "zstd" | "gzip";

/** `max` for a snapshot that is built once and served long; `fast` for quick startup and tests. */
export type CompressionLevel = "max" | "fast";

/** What brotli should tune for: its text mode helps UTF-8 (RFC 7932 §9.3 context modeling). */
export type ContentMode = "text" | "generic";

// The async forms run on the zlib thread pool, so several files compress on all cores at once.
const brotliCompress = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

const { constants } = zlib;

// Measured on 36 MB of web assets: brotli-11 is ~70x slower than brotli-5, so `max` is
// for builds that run off the startup path.
const LEVELS: Readonly<Record<CompressionLevel, Readonly<Record<Coding, number>>>> = {
  max: { br: 11, zstd: 19, gzip: 9 },
  fast: { br: 5, zstd: 3, gzip: 6 },
};

/** log2 of the smallest brotli window (RFC 7932 §9.1: 10..24 bits) that holds `size` bytes. */
function windowBits(size: number): number {
  const { BROTLI_MIN_WINDOW_BITS: min, BROTLI_MAX_WINDOW_BITS: max } = constants;
  return Math.min(max, Math.max(min, Math.ceil(Math.log2(size + 1))));
}

/**
 * Compresses bytes with one coding.
 *
 * @example await compress(new TextEncoder().encode("a".repeat(1000)), "br", "fast") // ~ 8 bytes
 */
export async function compress(
  bytes: Uint8Array,
  encoding: Coding,
  level: CompressionLevel,
  mode: ContentMode = "generic",
): Promise<Uint8Array> {
  const value = LEVELS[level][encoding];
  switch (encoding) {
    case "br":
      return brotliCompress(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: value,
          // Lets brotli size its window and tables for the real input instead of the worst case.
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          // A window no larger than the input: same output, ~25% faster on a site of small files
          // (the streaming encoder zlib uses does not shrink the default 4 MB window by itself).
          [constants.BROTLI_PARAM_LGWIN]: windowBits(bytes.length),
          [constants.BROTLI_PARAM_MODE]:
            mode === "text" ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
        },
      });
    case "zstd":
      // Bun's own one-shot zstd, on its thread pool: half the CPU of node:zlib's stream (measured
      // on a real site's text: 160 vs 300 ms). Its frames record the content size.
      return Bun.zstdCompress(bytes, { level: value });
    case "gzip":
      // At the fast level, libdeflate in one synchronous call: 320 ms of CPU for a real site's
      // text where node:zlib's stream took 540 (and 1% smaller). It runs on the calling thread,
      // which in the builder has nothing else to do while the pool compresses brotli and zstd. The
      // maximum level keeps zlib's 9 off the thread (libdeflate's top levels are far slower).
      return level === "fast"
        ? Bun.gzipSync(bytes as Uint8Array<ArrayBuffer>, {
            level: value as 6,
            library: "libdeflate",
          })
        : gzip(bytes, { level: value });
  }
}

/**
 * Decodes bytes; used to check precompressed sidecars against their file. Throws on corrupt input
 * or when the output would exceed `maxOutputLength` (a sidecar that decodes to more than its
 * primary is wrong, and must not be allowed to blow up memory while we find out).
 *
 * @example decompress(await compress(bytes, "gzip", "fast"), "gzip") // bytes
 */
export function decompress(
  bytes: Uint8Array,
  encoding: Coding,
  maxOutputLength?: number,
): Uint8Array {
  const options = maxOutputLength === undefined ? {} : { maxOutputLength };
  switch (encoding) {
    case "br":
      return zlib.brotliDecompressSync(bytes, options);
    case "zstd":
      return zlib.zstdDecompressSync(bytes, options);
    case "gzip":
      // gunzip, not unzip: the sidecar must be gzip as labelled, not zlib-wrapped deflate.
      return zlib.gunzipSync(bytes, options);
  }
}

/** A kept variant must save at least 1/MIN_SAVING_DIVISOR (10%) of the raw size... */
export const MIN_SAVING_DIVISOR = 10;
/** ...and at least this many bytes. */
export const MIN_SAVING_BYTES = 32;

/**
 * Whether a compressed variant is worth storing and serving. Each extra variant costs memory, a
 * `Vary: Accept-Encoding` that splits shared caches per coding, and client CPU to decode; a saving
 * under 10% or under 32 bytes (about one header line) does not pay for that.
 *
 * @example isWorthKeeping(1000, 900) // true  (saves exactly 10%)
 * @example isWorthKeeping(1000, 901) // false
 * @example isWorthKeeping(300, 269)  // false (saves 31 bytes)
 */
export function isWorthKeeping(raw: number, compressed: number): boolean {
  const saved = raw - compressed;
  // Integer arithmetic, so the exact 10% boundary never depends on float rounding.
  return saved >= MIN_SAVING_BYTES && saved * MIN_SAVING_DIVISOR >= raw;
}
