import { createAsset } from "./asset.ts";
import {
  MAX_BYTES_IN_FLIGHT,
  NOT_FOUND_PATH,
  type Progress,
  startProgress,
  statsFor,
} from "./build.ts";
import { type Coding, isWorthKeeping } from "./compress.ts";
import { CODINGS, compressWithStore, type EncodedBytes } from "./encode.ts";
import { mapWithLimit } from "./map-limit.ts";
import { contentTypeFor } from "./mime.ts";
import type { CompressionStore } from "./store.ts";
import type { Asset, Snapshot } from "./types.ts";

export interface UpgradeOptions {
  /**
   * Files compressed at once (default 4, each with its three codings queued on zlib's thread pool;
   * the event loop that serves only dispatches). Measured on the startup benchmark: 4 reached
   * maximum quality at 1.02x the 2-wide CLI reference where 2 took 1.10x.
   */
  readonly concurrency?: number;
  /** After each file: progress by files and bytes (for a progress bar). */
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Where maximum-quality encodings are looked up first and stored after compressing. */
  readonly store?: CompressionStore | undefined;
  /**
   * Called with a new snapshot holding the upgrades so far, at most once per `batchMs` (default
   * 1000) while the pass runs, so improved variants are served (and the fast ones freed) long
   * before the last file is done. Not called for the final snapshot, which is returned.
   */
  readonly onBatch?: (snapshot: Snapshot) => void;
  readonly batchMs?: number | undefined;
  /**
   * Aborting stops the pass: no file is started and no batch published after it (a reload replaced
   * the snapshot being upgraded). What it returns then is not to be served.
   */
  readonly signal?: AbortSignal;
}

/**
 * Phase two of startup: recompresses every asset below maximum quality (`atMaximum`) at maximum
 * quality and returns a new frozen snapshot (the old one is untouched, so requests in flight finish
 * on it). Per coding the smaller of the current and the new encoding is kept, so a valid max-quality
 * sidecar is never replaced by something larger; a variant whose bytes do not change is kept as the
 * same object, so its ETag and prepared response stay the same. ETags change only when bytes do.
 * When every asset is at maximum already, the same snapshot is returned.
 *
 * @example const best = await upgradeSnapshot(fast, { onBatch: server.replaceSnapshot });
 *          server.replaceSnapshot(best);
 */
export async function upgradeSnapshot(
  snapshot: Snapshot,
  options: UpgradeOptions = {},
): Promise<Snapshot> {
  const started = performance.now();
  // Largest first: a multi-megabyte bundle at brotli 11 takes seconds on one thread, and started
  // last it would leave the other core idle at the end.
  const assets = [...snapshot.assets.values()]
    .filter((asset) => !asset.atMaximum)
    .sort((a, b) => b.identity.size - a.identity.size);
  const progress = startProgress(
    assets.map((asset) => asset.identity.size),
    options.onProgress,
  );
  const current = new Map(snapshot.assets);
  let changed = false;
  let published = performance.now();
  const publish = (): Snapshot => {
    const map = new Map(current);
    const buildMs = snapshot.stats.buildMs + (performance.now() - started);
    return Object.freeze({
      ...snapshot,
      assets: Object.freeze(map),
      notFoundPage: map.get(NOT_FOUND_PATH),
      stats: statsFor(map, snapshot.stats.skipped, buildMs),
    });
  };
  await mapWithLimit(
    assets,
    options.concurrency ?? 4,
    async (asset, index) => {
      if (options.signal?.aborted) return;
      const next = await upgradeAsset(asset, options.store);
      progress(index);
      if (options.signal?.aborted) return;
      current.set(next.path, next);
      changed = true;
      if (
        options.onBatch !== undefined &&
        performance.now() - published >= (options.batchMs ?? 1000)
      ) {
        published = performance.now();
        options.onBatch(publish());
      }
    },
    { cost: (asset) => asset.identity.size, max: MAX_BYTES_IN_FLIGHT },
  );
  if (options.signal?.aborted) return snapshot;
  // Nothing to do (a warm restart from the store, or max-quality sidecars): keep the snapshot.
  return changed ? publish() : snapshot;
}

async function upgradeAsset(asset: Asset, store: CompressionStore | undefined): Promise<Asset> {
  const info = contentTypeFor(asset.path);
  const raw = asset.identity.bytes;
  if (!info.compressible || raw.length === 0) return Object.freeze({ ...asset, atMaximum: true });
  const best = await Promise.all(
    CODINGS.map(async (coding) => {
      const current = asset.variants.find((v) => v.encoding === coding)?.bytes;
      const fresh = (await compressWithStore(raw, coding, info, "max", store)).bytes;
      return smaller(coding, current, fresh, raw.length);
    }),
  );
  const kept = best.filter((e): e is EncodedBytes => e !== undefined);
  return createAsset({
    path: asset.path,
    contentType: asset.contentType,
    mtimeMs: asset.lastModified,
    cacheControl: asset.identity.headers["cache-control"] ?? "",
    encoded: [{ encoding: "identity", bytes: raw }, ...kept],
    extraHeaders: asset.extraHeaders,
    previous: asset,
    source: asset.source,
  });
}

function smaller(
  coding: Coding,
  current: Uint8Array | undefined,
  fresh: Uint8Array,
  rawLength: number,
): EncodedBytes | undefined {
  const bytes = current !== undefined && current.length <= fresh.length ? current : fresh;
  return isWorthKeeping(rawLength, bytes.length) ? { encoding: coding, bytes } : undefined;
}
