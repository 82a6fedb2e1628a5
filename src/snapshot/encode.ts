import {
  type Coding,
  type CompressionLevel,
  type ContentMode,
  compress,
  isWorthKeeping,
} from "./compress.ts";
import type { ContentTypeInfo } from "./mime.ts";
import type { ScannedFile } from "./scan.ts";
import { readValidSidecar } from "./sidecars.ts";
import type { CompressionStore } from "./store.ts";
import type { Encoding } from "./types.ts";

/** The bytes of one representation, before it becomes a `Variant`. */
export interface EncodedBytes {
  readonly encoding: Encoding;
  readonly bytes: Uint8Array;
}

export interface EncodeOptions {
  readonly level: CompressionLevel;
  /** Precompressed files for this primary, by coding (`splitSidecars`). */
  readonly sidecars: ReadonlyMap<Coding, ScannedFile> | undefined;
  readonly onWarning: (message: string) => void;
  /** Maximum-quality encodings from earlier runs; new ones are added when `level` is max. */
  readonly store?: CompressionStore | undefined;
  /** Counts encodings made below maximum quality (none: the upgrade pass has nothing to do). */
  readonly counts?: { fast: number };
}

export const CODINGS: readonly Coding[] = ["br", "zstd", "gzip"];

/** Text-like types get brotli's text mode; the rest its generic one. */
export function modeFor(type: string): ContentMode {
  return /^text\/|charset=|\+(json|xml)\b|^application\/(json|xml)\b/.test(type)
    ? "text"
    : "generic";
}

/**
 * Every representation worth storing for one file: identity first, then each coding that saves
 * enough (`isWorthKeeping`). A valid sidecar is used as is; an invalid one is reported and the
 * coding computed instead. Incompressible types get only their valid sidecars; empty files only
 * identity (nothing to save).
 *
 * @example await encodeVariants(cssBytes, { type: "text/css; charset=utf-8", compressible: true }, opts)
 *          // [{ encoding: "identity", bytes }, { encoding: "br", bytes }, ...]
 */
export async function encodeVariants(
  raw: Uint8Array,
  info: ContentTypeInfo,
  options: EncodeOptions,
): Promise<EncodedBytes[]> {
  const identity: EncodedBytes = { encoding: "identity", bytes: raw };
  if (raw.length === 0) return [identity];
  // The three codings run at once: the async zlib calls use the thread pool.
  const encoded = await Promise.all(CODINGS.map((coding) => encodeOne(raw, info, coding, options)));
  const kept = encoded.filter(
    (e): e is EncodedBytes => e !== undefined && isWorthKeeping(raw.length, e.bytes.length),
  );
  return [identity, ...kept];
}

async function encodeOne(
  raw: Uint8Array,
  info: ContentTypeInfo,
  coding: Coding,
  options: EncodeOptions,
): Promise<EncodedBytes | undefined> {
  const sidecar = options.sidecars?.get(coding);
  if (sidecar !== undefined) {
    const check = await readValidSidecar(sidecar, coding, raw);
    if (check.ok) return { encoding: coding, bytes: check.bytes };
    const fallback = info.compressible ? "compressing instead" : "not compressing this type";
    options.onWarning(`ignored sidecar ${sidecar.urlPath.slice(1)}: ${check.reason}; ${fallback}`);
  }
  if (!info.compressible) return undefined;
  const bytes = await compressWithStore(raw, coding, info, options.level, options.store);
  if (options.counts !== undefined && options.level !== "max" && bytes.maxQuality !== true) {
    options.counts.fast++;
  }
  return { encoding: coding, bytes: bytes.bytes };
}

/**
 * A stored maximum-quality encoding when the store has one (a warm restart is at maximum at once);
 * else compress at `level`, and store the result when it is maximum quality.
 */
export async function compressWithStore(
  raw: Uint8Array,
  coding: Coding,
  info: ContentTypeInfo,
  level: CompressionLevel,
  store: CompressionStore | undefined,
): Promise<{ readonly bytes: Uint8Array; readonly maxQuality: boolean }> {
  const key = { source: raw, codec: coding, level: "max" };
  const stored = await store?.get(key);
  if (stored !== undefined) return { bytes: stored, maxQuality: true };
  const bytes = await compress(raw, coding, level, modeFor(info.type));
  if (level === "max") await store?.put(key, bytes);
  return { bytes, maxQuality: level === "max" };
}
