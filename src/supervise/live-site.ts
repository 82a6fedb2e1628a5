import { createProgressBar } from "../cli/progress.ts";
import { formatSummary } from "../cli/summary.ts";
import type { RunningServer } from "../server/start-server.ts";
import { type BuildOptions, buildSnapshot } from "../snapshot/build.ts";
import { diffSnapshots, isEmptyDiff } from "../snapshot/diff.ts";
import type { Snapshot } from "../snapshot/types.ts";
import { upgradeSnapshot } from "../snapshot/upgrade.ts";

export interface LiveOptions {
  readonly root: string;
  /** How every rebuild is built (its `previous` is filled in here). */
  readonly build: BuildOptions;
  /** `both`: after a build, recompress what is below maximum in the background. */
  readonly upgrade: boolean;
  readonly log: (line: string) => void;
  /** How often the upgrade pass swaps in what it improved so far (default 1000 ms). */
  readonly batchMs?: number | undefined;
  /** Turns each new snapshot into the one to serve (`--workers`: written as a shared image, mapped). */
  readonly publish?: (next: Snapshot) => Snapshot;
  /** After each upgrade pass or reload build: how long it took (metrics). */
  readonly onBuild?: (kind: "upgrade" | "reload", seconds: number) => void;
}

/**
 * Watch mode: a build is swapped in only if no change under the root is seen from its start until
 * this long after it ends ("read until stable"). `readStable` alone cannot see a writer that pauses
 * between two writes (measured: 40% of reads of a file rewritten in two halves 60 ms apart were
 * torn); a writer pausing longer than this still can, which is why deploys should rename into place.
 */
const SETTLE_MS = 100;

/**
 * The snapshot being served and everything that replaces it: the background upgrade to maximum
 * compression, and reloads (SIGHUP, `--watch`). Every replacement is a whole new snapshot handed to
 * the server at once, so each request is answered from exactly one version of the site. One build
 * runs at a time; a reload asked for while one runs is done once more after it.
 */
export class LiveSite {
  #current: Snapshot;
  #upgrade: AbortController | undefined;
  #reloading: Promise<void> | undefined;
  #again = false;
  /** Change events seen (`noteChange`); more than 0 means watch mode. */
  #changes = 0;
  /** Snapshots served so far: 1, then +1 per swap (upgrade batch or reload). */
  generation = 1;
  /** When the snapshot being served was swapped in (performance.now()). */
  swappedAt = performance.now();
  /** Reloads by result (metrics). */
  readonly reloadResults = { swapped: 0, unchanged: 0, postponed: 0, failed: 0 };

  constructor(
    initial: Snapshot,
    readonly server: RunningServer,
    readonly options: LiveOptions,
  ) {
    this.#current = initial;
  }

  get current(): Snapshot {
    return this.#current;
  }

  /**
   * Recompresses what is below maximum quality, swapping improved variants in about once a second.
   * `readyMs` (startup) adds the progress bar and the summary with the time to maximum.
   */
  startUpgrade(readyMs?: number): Promise<void> {
    this.#upgrade?.abort();
    const controller = new AbortController();
    this.#upgrade = controller;
    const { signal } = controller;
    const base = this.#current;
    const started = performance.now();
    const bar =
      readyMs === undefined ? undefined : createProgressBar(process.stderr, "compressing (max)");
    const onBatch = (next: Snapshot) => {
      if (!signal.aborted) this.#swap(next);
    };
    const store = this.options.build.store;
    const { batchMs } = this.options;
    const upgrade = { store, onProgress: bar?.update, onBatch, signal, batchMs };
    return upgradeSnapshot(base, upgrade).then(
      (best) => {
        bar?.done();
        if (signal.aborted || best === base) return;
        this.#swap(best);
        this.options.onBuild?.("upgrade", (performance.now() - started) / 1000);
        Bun.gc(true);
        const { log } = this.options;
        const now = performance.now();
        if (readyMs === undefined) {
          const files = base.stats.belowMaximum;
          const noun = files === 1 ? "file" : "files";
          log(`memserve: maximum compression for ${files} ${noun} in ${seconds(now - started)}`);
          return;
        }
        log(`memserve: maximum compression in ${seconds(now - readyMs)} more`);
        const rss = process.memoryUsage.rss();
        for (const line of formatSummary(best, rss, { readyMs, maximum: now })) log(line);
      },
      (error: unknown) => {
        bar?.done();
        this.options.log(`memserve: warning: maximum compression failed, serving fast: ${error}`);
      },
    );
  }

  /**
   * Rescans the root and swaps in a snapshot where unchanged files keep their assets and changed
   * ones are read and compressed (fast first, then upgraded). A failure (root gone, a file that
   * cannot be read) is logged and the current snapshot stays. Resolves when the site is up to date
   * with the disk as of the call.
   */
  reload(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#again = false;
        await this.#rebuild();
      } while (this.#again);
    })().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** The watcher saw a change under the root (a reload reading at that moment may be stale). */
  noteChange(): void {
    this.#changes++;
  }

  /** Stops the background upgrade (shutdown). */
  close(): void {
    this.#upgrade?.abort();
  }

  async #rebuild(): Promise<void> {
    const started = performance.now();
    // Batches of an upgrade of the snapshot being replaced must not be swapped in over the reload.
    this.#upgrade?.abort();
    const previous = this.#current;
    const changesBefore = this.#changes;
    let next: Snapshot;
    try {
      next = await buildSnapshot(this.options.root, { ...this.options.build, previous });
      if (this.#changes > 0) await Bun.sleep(SETTLE_MS);
    } catch (error) {
      this.options.log(
        `memserve: reload failed, still serving the previous version: ${(error as Error).message}`,
      );
      if (previous.stats.belowMaximum > 0 && this.options.upgrade) void this.startUpgrade();
      return;
    }
    if (this.#changes !== changesBefore) {
      // Not swapped: the watcher saw the change and reloads again once the files settle.
      this.reloadResults.postponed++;
      this.options.log("memserve: reload postponed: files changed while being read");
      return;
    }
    const diff = diffSnapshots(previous, next);
    this.options.onBuild?.("reload", (performance.now() - started) / 1000);
    const took = seconds(performance.now() - started);
    if (isEmptyDiff(diff)) {
      this.reloadResults.unchanged++;
      this.options.log(`memserve: reload: no changes (${took})`);
    } else {
      this.#swap(next);
      this.reloadResults.swapped++;
      const { added, changed, removed } = diff;
      this.options.log(
        `memserve: reloaded: ${added} added, ${changed} changed, ${removed} removed, ${next.assets.size} files, in ${took}`,
      );
    }
    if (this.#current.stats.belowMaximum > 0 && this.options.upgrade) void this.startUpgrade();
  }

  #swap(built: Snapshot): void {
    const next = this.options.publish?.(built) ?? built;
    this.#current = next;
    this.generation++;
    this.swappedAt = performance.now();
    this.server.replaceSnapshot(next);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
