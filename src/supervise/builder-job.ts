import { addDeltas, rememberVersions } from "../dictionary/deltas.ts";
import { historyIn } from "../dictionary/history.ts";
import { persistImage } from "../image/persist.ts";
import { readImage } from "../image/read-image.ts";
import { ImageWriter } from "../image/write-image.ts";
import { type BuildOptions, buildSnapshot, type Progress } from "../snapshot/build.ts";
import { diffSnapshots, isEmptyDiff, type SnapshotDiff } from "../snapshot/diff.ts";
import { openStore } from "../snapshot/store.ts";
import type { Snapshot, SnapshotStats } from "../snapshot/types.ts";
import { upgradeSnapshot } from "../snapshot/upgrade.ts";
import { imageName } from "./runtime-dir.ts";

/**
 * One piece of work for the builder process (everything that reads the site or compresses), sent
 * to it as JSON. It writes each snapshot it makes as an image into `runtimeDir` and exits.
 * - `startup`: build the site (at `max` quality with `--compression max`), then upgrade.
 * - `reload`: rebuild from the disk reusing every unchanged file of `previous`, then upgrade.
 */
export interface BuilderJob {
  readonly kind: "startup" | "reload";
  readonly root: string;
  readonly build: Pick<
    BuildOptions,
    "maxAge" | "cacheControl" | "extraHeaders" | "dictionaryVersions"
  >;
  readonly compression: "fast" | "max" | "both";
  readonly cacheDir: string | undefined;
  readonly runtimeDir: string;
  /** The index of the image being served (reload, upgrade). */
  readonly previous?: string | undefined;
  /** The name of the first image this job writes is `gen-<firstGeneration>`; then +1 each. */
  readonly firstGeneration: number;
  /** How often the upgrade pass writes what it improved so far (ms). */
  readonly batchMs: number;
  /** Where the last image is persisted for a warm start (`persistDir`); none when undefined. */
  readonly persistDir?: string | undefined;
}

/** Builder -> supervisor. */
export type BuilderMessage =
  | { readonly type: "progress"; readonly phase: "fast" | "max"; readonly progress: Progress }
  | { readonly type: "warning"; readonly message: string }
  /**
   * A new image to serve. `phase` is `build` for a startup or reload build, `batch` for an upgrade
   * batch, `maximum` for the upgrade's last image.
   */
  | {
      readonly type: "image";
      readonly indexPath: string;
      readonly generation: number;
      readonly phase: "build" | "batch" | "maximum";
      readonly stats: SnapshotStats;
      readonly diff?: SnapshotDiff;
      readonly bytesWritten: number;
    }
  /** A reload found nothing changed: no image written. */
  | { readonly type: "unchanged" }
  /** Everything is at the quality asked for (the job's last message before exiting 0). */
  | { readonly type: "done"; readonly atMaximum: boolean };

/** Runs `job`, reporting through `send`; rejects on failure (root unreadable, a file unreadable). */
export async function runBuilderJob(
  job: BuilderJob,
  send: (message: BuilderMessage) => void,
  /** Called once its build is served: the upgrade pass after it must yield to the server. */
  onServing: () => void = () => {},
): Promise<void> {
  const warn = (message: string) => send({ type: "warning", message });
  const store =
    job.cacheDir === undefined ? undefined : await openStore(job.cacheDir, { onWarning: warn });
  let generation = job.firstGeneration;
  let last = job.previous;
  // One writer for the whole job: it remembers where each response went, also when compacting
  // moved it to a new pack, so a later image never names a pack an earlier one left behind (the
  // supervisor deletes such a pack once the image that named it is replaced).
  const writer = new ImageWriter(job.runtimeDir);
  const publish = (
    snapshot: Snapshot,
    phase: "build" | "batch" | "maximum",
    diff?: SnapshotDiff,
  ) => {
    // Batches keep the packs of fast codings they are replacing; the last image compacts them.
    const written = writer.finish(snapshot, imageName(generation), {
      compact: phase !== "batch",
    });
    last = written.indexPath;
    send({
      type: "image",
      indexPath: written.indexPath,
      generation,
      phase,
      stats: snapshot.stats,
      bytesWritten: written.bytesWritten,
      ...(diff === undefined ? {} : { diff }),
    });
    generation++;
  };
  // The builder keeps every asset of the previous image as one object, so what it reuses is
  // recognised as a view of a segment and referenced, not copied.
  const previous =
    job.previous === undefined ? undefined : readImage(job.previous, { cachedAssets: Infinity });
  const level = job.compression === "max" ? "max" : "fast";
  // Written as it is built (see ImageWriter).
  const built = await buildSnapshot(job.root, {
    ...job.build,
    compressionLevel: level,
    previous,
    store,
    onWarning: warn,
    onAsset: (asset) => writer.add(asset),
    onProgress: throttled((progress) => send({ type: "progress", phase: level, progress })),
  });
  const diff = previous === undefined ? undefined : diffSnapshots(previous, built);
  // An unchanged tree keeps the previous image, whose assets the upgrade below then continues.
  const unchanged = previous !== undefined && diff !== undefined && isEmptyDiff(diff);
  if (unchanged) send({ type: "unchanged" });
  else publish(built, "build", diff);
  onServing();
  const current = unchanged ? previous : built;
  // Deltas against earlier versions are part of the background work (not with --compression fast).
  const versions = job.compression === "fast" ? 0 : (job.build.dictionaryVersions ?? 0);
  const history = historyIn(job.cacheDir, versions, warn);
  if (history !== undefined) await rememberVersions(history, previous, current);
  let atMaximum = current.stats.belowMaximum === 0;
  const upgrading = job.compression === "both" && !atMaximum;
  let best = current;
  if (upgrading) {
    best = await upgradeSnapshot(current, {
      store,
      batchMs: job.batchMs,
      onProgress: throttled((progress) => send({ type: "progress", phase: "max", progress })),
      onBatch: (next) => publish(next, "batch"),
    });
    atMaximum = true;
  }
  // An unchanged tree keeps the previous image's deltas as they are.
  if (!unchanged || best !== current) {
    best = await addDeltas(best, { versions, history, store, previous });
  }
  if (best !== current) publish(best, upgrading ? "maximum" : "batch");
  if (job.persistDir !== undefined && last !== undefined) {
    try {
      persistImage(last, job.persistDir);
    } catch (error) {
      warn(
        `cannot keep the image for a warm start in ${job.persistDir}: ${(error as Error).message}`,
      );
    }
  }
  send({ type: "done", atMaximum });
}

/** Between progress messages: the bar redraws no more often, and one per file (3,000 on a real site) cost the server ~70 ms of CPU while it waited for its first image. */
const PROGRESS_MS = 100;

/** `report`, at most every PROGRESS_MS, and always for the last file. */
function throttled(report: (progress: Progress) => void): (progress: Progress) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (progress) => {
    const now = performance.now();
    if (now - last < PROGRESS_MS && progress.files < progress.totalFiles) return;
    last = now;
    report(progress);
  };
}
