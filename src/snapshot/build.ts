import { resolve } from "node:path";
import { useAsDictionaryFor } from "../dictionary/match.ts";
import {
  applyHeaderRules,
  type HeadInputs,
  RULE_FILES,
  readSiteRules,
  sameHead,
} from "../rules/site-rules.ts";
import { createAsset } from "./asset.ts";
import { cacheControlFor, IMMUTABLE } from "./cache-policy.ts";
import type { Coding, CompressionLevel } from "./compress.ts";
import { encodeVariants } from "./encode.ts";
import { normalizeExtraHeaders } from "./headers.ts";
import { mapWithLimit } from "./map-limit.ts";
import { contentTypeFor } from "./mime.ts";
import { readStable, type StableRead } from "./read-file.ts";
import { type ScannedFile, scanDirectory } from "./scan.ts";
import { splitSidecars } from "./sidecars.ts";
import type { CompressionStore } from "./store.ts";
import type { Asset, Encoding, Snapshot, SnapshotStats } from "./types.ts";

export interface BuildOptions {
  /** Seconds of `max-age` for files that are neither hashed nor HTML. */
  readonly maxAge: number;
  /** Cache-Control for every file instead of the defaults (`--cache-control`). */
  readonly cacheControl: string | undefined;
  /** Added to every response; names are lower-cased. */
  readonly extraHeaders: Readonly<Record<string, string>>;
  /**
   * Earlier versions of a versioned file it gets deltas against (RFC 9842); above 0 its responses
   * announce `Use-As-Dictionary` (see src/dictionary/). Default 0: off.
   */
  readonly dictionaryVersions?: number;
  /**
   * Default `fast` (brotli 5, zstd 3, gzip 6): `max` (brotli 11, zstd 19, gzip 9) took ~10x the CPU
   * for ~11% smaller brotli on 9 MB of JS/JSON, too slow to block startup on.
   */
  readonly compressionLevel?: CompressionLevel;
  /**
   * The snapshot this one replaces (a reload): a file whose version (and its sidecars') is the same
   * keeps its asset, untouched; and a file that exists but cannot be read fails the build instead of
   * being dropped, so the caller keeps serving `previous`.
   */
  readonly previous?: Snapshot | undefined;
  /** Maximum-quality encodings from earlier runs (`openStore`); none when undefined. */
  readonly store?: CompressionStore | undefined;
  /** After each file: progress by files and by the bytes of the files (for a progress bar). */
  readonly onProgress?: (progress: Progress) => void;
  /** Each asset once built (or kept from `previous`), in no particular order. */
  readonly onAsset?: (asset: Asset) => void;
  /** Skipped files and ignored sidecars; default prints to stderr. */
  readonly onWarning?: (message: string) => void;
}

/**
 * Files in flight at once. Each holds its bytes and up to three encodings; four keep the zlib thread
 * pool (and so every core of a small machine) busy without holding a large site in memory twice.
 */
const CONCURRENCY = 4;

/**
 * At maximum quality, raw bytes being compressed at once, at most (one larger file still runs,
 * alone). Measured: brotli 11 and zstd 19 each take about 16x their input in working memory (50 MiB
 * each for a 3 MiB bundle), so 4 MiB in flight bounds a pass near 130 MiB, on any site.
 */
export const MAX_BYTES_IN_FLIGHT = 4 << 20;

/** Where the HTTP layer finds the body for 404 responses. */
export const NOT_FOUND_PATH = "/404.html";

const printWarning = (message: string): void => console.warn(`warning: ${message}`);

/**
 * Reads `root` into an immutable in-memory snapshot: every file with its compressed variants,
 * ETags and complete header sets.
 *
 * @example
 *   const options = { maxAge: 3600, cacheControl: undefined, extraHeaders: {} };
 *   const snapshot = await buildSnapshot("site", options);
 *   snapshot.assets.get("/index.html")?.variants[0]?.headers["content-encoding"] // "br"
 * @throws Error when `root` is not a readable directory (see `scanDirectory`) or an extra header is
 *   malformed.
 */
export async function buildSnapshot(root: string, options: BuildOptions): Promise<Snapshot> {
  const started = performance.now();
  const warn = options.onWarning ?? printWarning;
  const { previous } = options;
  const extraHeaders = normalizeExtraHeaders(options.extraHeaders);
  const scan = await scanDirectory(root);
  // A reload must not mistake a file it cannot read for a deleted one.
  if (previous !== undefined && scan.unreadable.length > 0) throw new Error(scan.unreadable[0]);
  for (const message of scan.warnings) warn(message);
  const rules = readSiteRules(root);
  for (const message of rules.warnings) warn(message);
  const { primaries, sidecars } = splitSidecars(
    scan.files.filter((file) => !RULE_FILES.has(file.urlPath)),
  );

  const progress = startProgress(
    primaries.map((file) => file.size),
    options.onProgress,
  );
  const headroom = headroomFor(extraHeaders);
  const level = options.compressionLevel ?? "fast";
  // Largest first, so a big bundle does not start last and leave the other cores idle at the end;
  // results keep the scan's (path) order.
  const order = primaries.map((_, i) => i);
  order.sort((a, b) => (primaries[b]?.size ?? 0) - (primaries[a]?.size ?? 0));
  const built = new Array<Asset | undefined>(primaries.length);
  const budget = { cost: (i: number) => primaries[i]?.size ?? 0, max: MAX_BYTES_IN_FLIGHT };
  await mapWithLimit(
    order,
    CONCURRENCY,
    async (index) => {
      const file = primaries[index] as ScannedFile;
      const codings = sidecars.get(file.urlPath);
      const kept = previous?.assets.get(file.urlPath);
      const head = headFor(file.urlPath);
      const same = kept?.source === sourceOf(file.version, codings);
      const asset = same ? keepWithHead(kept as Asset, head) : await loadAsset(file, codings, head);
      // By the bytes, not the file's times: a copy (a container layer, rsync) is no change.
      if (kept !== undefined && !same && isImmutable(kept) && changedBytes(kept, asset)) {
        warn(
          `${file.urlPath.slice(1)} changed, but it is served as immutable (${IMMUTABLE}): browsers and caches that have it keep the old version for a year; give it a new name, or set Cache-Control for it in _headers`,
        );
      }
      built[index] = asset;
      if (asset !== undefined) options.onAsset?.(asset);
      progress(index);
    },
    level === "max" ? budget : undefined,
  );

  /** A versioned, compressible file announces itself as the dictionary for its next versions. */
  function withDictionary(urlPath: string): Readonly<Record<string, string>> {
    if ((options.dictionaryVersions ?? 0) <= 0 || "use-as-dictionary" in extraHeaders)
      return extraHeaders;
    const value = contentTypeFor(urlPath).compressible ? useAsDictionaryFor(urlPath) : undefined;
    return value === undefined
      ? extraHeaders
      : Object.freeze({ ...extraHeaders, "use-as-dictionary": value });
  }

  /** The file's head: memserve's defaults, then `_headers`. */
  function headFor(urlPath: string): HeadInputs {
    const { type } = contentTypeFor(urlPath);
    const cacheControl = cacheControlFor(urlPath, type, {
      maxAge: options.maxAge,
      override: options.cacheControl,
    });
    return applyHeaderRules(rules.headers, urlPath, {
      contentType: type,
      cacheControl,
      extraHeaders: withDictionary(urlPath),
    });
  }

  async function loadAsset(
    file: ScannedFile,
    codings: ReadonlyMap<Coding, ScannedFile> | undefined,
    head: HeadInputs,
  ): Promise<Asset | undefined> {
    const read = await readBytes(file, headroom, previous !== undefined, warn);
    if (read === undefined) return undefined;
    const { bytes: raw, mtimeMs } = read;
    const info = contentTypeFor(file.urlPath);
    const counts = { fast: 0 };
    const encoded = await encodeVariants(raw, info, {
      level,
      sidecars: codings,
      onWarning: warn,
      store: options.store,
      counts,
    });
    return createAsset({
      path: file.urlPath,
      mtimeMs,
      ...head,
      encoded,
      atMaximum: counts.fast === 0,
      source: sourceOf(read.version, codings),
    });
  }

  const assets = new Map<string, Asset>();
  for (const asset of built) if (asset !== undefined) assets.set(asset.path, asset);
  const unread = built.length - assets.size;
  if (assets.size === 0) warn(`no files to serve in ${resolve(root)}`);
  const elapsed = performance.now() - started;
  const stats = statsFor(assets, scan.warnings.length + unread, elapsed);
  return Object.freeze({
    root: resolve(root),
    // Frozen against reassignment of fields; the Map's own methods stay available, and the
    // ReadonlyMap type is what keeps callers from `set`.
    assets: Object.freeze(assets),
    notFoundPage: assets.get(NOT_FOUND_PATH),
    extraHeaders,
    stats,
    redirects: rules.redirects,
  });
}

function changedBytes(kept: Asset, asset: Asset | undefined): boolean {
  return (
    asset !== undefined &&
    !Buffer.from(kept.identity.bytes).equals(Buffer.from(asset.identity.bytes))
  );
}

function isImmutable(asset: Asset): boolean {
  return asset.identity.headers["cache-control"] === IMMUTABLE;
}

/**
 * A kept file's asset, as it is when its head is the same; else the same bodies (no compression)
 * under the new head (`_headers` changed).
 */
function keepWithHead(kept: Asset, head: HeadInputs): Asset {
  const cacheControl = kept.identity.headers["cache-control"] ?? "";
  if (sameHead(kept, cacheControl, head)) return kept;
  return createAsset({
    path: kept.path,
    mtimeMs: kept.lastModified,
    ...head,
    encoded: kept.variants.map((v) => ({ encoding: v.encoding, bytes: v.bytes })),
    atMaximum: kept.atMaximum,
    source: kept.source,
  });
}

/** The versions an asset is built from: its file's and its sidecars' (`Asset.source`). */
function sourceOf(version: string, codings: ReadonlyMap<Coding, ScannedFile> | undefined): string {
  let source = version;
  for (const [coding, sidecar] of codings ?? []) source += ` ${coding}=${sidecar.version}`;
  return source;
}

/**
 * Room for a 200 head in front of each file as read, so the body is never copied: the longest head
 * without extra headers is about 300 bytes (a 120-byte Cache-Control included); the extra headers
 * come on top. A head that still does not fit costs one copy, nothing else.
 */
function headroomFor(extraHeaders: Readonly<Record<string, string>>): number {
  let room = 384;
  for (const [name, value] of Object.entries(extraHeaders)) room += name.length + value.length + 4;
  return room;
}

/**
 * The file's bytes as read now (its size may differ from the scan's: what we read is served).
 * Unreadable: at startup a warning and the file is skipped; in a reload (`strict`) an error, so the
 * previous snapshot stays. Deleted since the scan: skipped either way.
 */
async function readBytes(
  file: ScannedFile,
  headroom: number,
  strict: boolean,
  warn: (message: string) => void,
): Promise<StableRead | undefined> {
  try {
    return await readStable(file.absPath, headroom);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = `cannot read ${file.urlPath.slice(1)}: ${code ?? (error as Error).message}`;
    if (!strict) warn(message);
    else if (code !== "ENOENT") throw new Error(message);
    return undefined;
  }
}

export interface Progress {
  readonly files: number;
  readonly totalFiles: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

/** A callback counting finished items (by index into `sizes`) into `Progress` reports. */
export function startProgress(
  sizes: readonly number[],
  onProgress: ((progress: Progress) => void) | undefined,
): (index: number) => void {
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  let files = 0;
  let bytes = 0;
  return (index) => {
    files++;
    bytes += sizes[index] ?? 0;
    onProgress?.({ files, totalFiles: sizes.length, bytes, totalBytes });
  };
}

export function statsFor(
  assets: ReadonlyMap<string, Asset>,
  skipped: number,
  buildMs: number,
): SnapshotStats {
  const bytesByEncoding: Record<Encoding, number> = { br: 0, zstd: 0, gzip: 0, identity: 0 };
  const rawBytesCoded = { br: 0, zstd: 0, gzip: 0 };
  let belowMaximum = 0;
  let deltaBytes = 0;
  let filesWithDeltas = 0;
  for (const asset of assets.values()) {
    for (const variant of asset.variants) {
      bytesByEncoding[variant.encoding] += variant.size;
      if (variant.encoding !== "identity") rawBytesCoded[variant.encoding] += asset.identity.size;
    }
    if (asset.deltas.size > 0) filesWithDeltas++;
    for (const list of asset.deltas.values()) for (const delta of list) deltaBytes += delta.size;
    if (!asset.atMaximum) belowMaximum++;
  }
  return Object.freeze({
    files: assets.size,
    skipped,
    rawBytes: bytesByEncoding.identity,
    bytesByEncoding: Object.freeze(bytesByEncoding),
    rawBytesCoded: Object.freeze(rawBytesCoded),
    buildMs: Math.round(buildMs),
    belowMaximum,
    deltaBytes,
    filesWithDeltas,
  });
}
