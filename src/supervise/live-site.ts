import { createProgressBar } from "../cli/progress.ts";
import { type ImageSnapshot, readImage, unmapReplacedSoon } from "../image/read-image.ts";
import type { RunningServer } from "../server/start-server.ts";
import { type Builder, startBuilder } from "./builder.ts";
import type { BuilderJob, BuilderMessage } from "./builder-job.ts";
import { collectGarbage, generationOf } from "./runtime-dir.ts";

export interface LiveOptions {
  /** Everything a builder job needs but its kind, previous image and first generation. */
  readonly job: Omit<BuilderJob, "kind" | "previous" | "firstGeneration">;
  readonly log: (line: string) => void;
  /** Warnings (skipped files, an unusable cache dir), on stderr. */
  readonly warn: (message: string) => void;
  /** Progress bars on stderr for the startup build and its upgrade (a TTY only). */
  readonly progress: boolean;
  /** Every image this process swaps in, for the workers (after the primary maps it). */
  readonly publish?: (indexPath: string, generation: number) => void;
  /** The oldest generation another process may still serve (default: none). */
  readonly oldestServedElsewhere?: () => number;
  /** After each upgrade pass or reload build: how long it took (metrics). */
  readonly onBuild?: (kind: "startup" | "upgrade" | "reload", seconds: number) => void;
  /** At ready and at maximum (startup): print the summary table. */
  readonly onMilestone?: (kind: "ready" | "maximum", snapshot: ImageSnapshot) => void;
}

/**
 * Watch mode: an image is swapped in only if no change under the root is seen from its build's
 * start until this long after it ("read until stable"). `readStable` alone cannot see a writer
 * that pauses between two writes; a writer pausing longer than this still can, which is why
 * deploys should rename into place.
 */
const SETTLE_MS = 100;

/**
 * The image being served and every one that replaces it. All reading and compressing happens in a
 * builder process at the lowest priority (`startBuilder`); this side maps each image it reports and
 * swaps it in whole, so each request is answered from exactly one version of the site. One builder
 * runs at a time: a reload kills an upgrade in progress, and a reload asked for while one builds
 * runs once more after it. A builder that fails or is killed leaves the last good image served.
 */
export class LiveSite {
  #current: ImageSnapshot | undefined;
  #builder: Builder | undefined;
  #builderStarted = 0;
  #phase: "fast" | "max" = "fast";
  #bar: ReturnType<typeof createProgressBar> | undefined;
  #again = false;
  #closed = false;
  #nextGeneration = 1;
  /** Change events seen (`noteChange`). */
  #changes = 0;
  #changesAtStart = 0;
  #waiters: (() => void)[] = [];
  #ready: { resolve: (ok: boolean) => void } | undefined;
  /** Snapshots served so far: +1 per swap (upgrade batch or reload). */
  generation = 0;
  /** When the snapshot being served was swapped in (performance.now()). */
  swappedAt = performance.now();
  /** Reloads by result (metrics). */
  readonly reloadResults = { swapped: 0, unchanged: 0, postponed: 0, failed: 0 };

  constructor(
    readonly server: () => RunningServer | undefined,
    readonly options: LiveOptions,
  ) {}

  /** The snapshot being served (defined once `start` resolved true). */
  get current(): ImageSnapshot {
    if (this.#current === undefined) throw new Error("no snapshot yet");
    return this.#current;
  }

  /** The builder's pid while one runs (metrics). */
  get builderPid(): number | undefined {
    return this.#builder?.pid;
  }

  /**
   * Serves the first image: `restored` (a warm start: the tree is then checked by a reload in the
   * background), or else a startup build. Resolves false when the startup build failed.
   */
  start(restored: ImageSnapshot | undefined): Promise<boolean> {
    if (restored !== undefined) {
      this.#nextGeneration = generationOf(restored.image.indexPath) + 1;
      this.#swap(restored);
      this.#run("reload");
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.#ready = { resolve };
      this.#run("startup");
    });
  }

  /** Rescans the root (SIGHUP, `--watch`); resolves once the site matches the disk as of the call. */
  reload(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (this.#builder?.job.kind === "reload" && !this.#builder.imageSeen) this.#again = true;
    else this.#run("reload");
    return done;
  }

  /** The watcher saw a change under the root (a build reading at that moment may be stale). */
  noteChange(): void {
    this.#changes++;
  }

  /** Stops the builder (shutdown). */
  close(): void {
    this.#closed = true;
    this.#builder?.kill();
    this.#bar?.done();
  }

  #run(kind: BuilderJob["kind"]): void {
    this.#builder?.kill();
    this.#again = false;
    const previous = this.#current?.image.indexPath;
    const job: BuilderJob = {
      ...this.options.job,
      kind,
      previous,
      firstGeneration: this.#nextGeneration,
    };
    this.#changesAtStart = this.#changes;
    this.#builderStarted = performance.now();
    this.#phase = kind === "startup" && job.compression === "max" ? "max" : "fast";
    // One message at a time, in order: an image waiting out the settle time must not be overtaken
    // by the upgrade batches behind it.
    let queue = Promise.resolve();
    const builder: Builder = startBuilder(job, (message) => {
      queue = queue.then(() =>
        this.#builder === builder ? this.#onMessage(builder, message) : undefined,
      );
    });
    this.#builder = builder;
    void builder.exited.then(async (code) => {
      await queue; // what it reported before exiting comes first
      if (this.#builder !== builder) return; // replaced: killed on purpose
      this.#builder = undefined;
      this.#bar?.done();
      this.#bar = undefined;
      if (code !== 0) this.#failed(kind, code);
      this.collect();
      if (this.#again && !this.#closed) this.#run("reload");
      else this.#settleWaiters();
    });
  }

  async #onMessage(builder: Builder, message: BuilderMessage): Promise<void> {
    switch (message.type) {
      case "progress":
        if (!this.options.progress || builder.job.kind === "reload") return;
        if (this.#bar === undefined || message.phase !== this.#phase) {
          this.#bar?.done();
          this.#phase = message.phase;
          this.#bar = createProgressBar(process.stderr, `compressing (${message.phase})`);
        }
        this.#bar.update(message.progress);
        return;
      case "warning":
        this.options.warn(message.message);
        return;
      case "unchanged":
        builder.imageSeen = true;
        this.reloadResults.unchanged++;
        this.options.log(`memserve: reload: no changes (${this.#took()})`);
        this.#settleWaiters();
        return;
      case "image":
        return this.#onImage(builder, message);
      case "done":
        if (message.atMaximum && builder.job.compression === "both" && builder.sawMaximum) {
          this.#reportMaximum(builder);
        }
        return;
    }
  }

  async #onImage(builder: Builder, message: Extract<BuilderMessage, { type: "image" }>) {
    this.#nextGeneration = message.generation + 1;
    const isReload = builder.job.kind === "reload" && message.phase === "build";
    if (isReload && this.#changes > 0) {
      await Bun.sleep(SETTLE_MS);
      if (this.#changes !== this.#changesAtStart) {
        // Not swapped: the watcher saw a change and reloads again once the files settle.
        this.reloadResults.postponed++;
        this.options.log("memserve: reload postponed: files changed while being read");
        this.#run("reload");
        return;
      }
    }
    if (this.#builder !== builder) return;
    builder.imageSeen = true;
    let snapshot: ImageSnapshot;
    try {
      snapshot = readImage(message.indexPath);
    } catch (error) {
      this.options.warn(`cannot map ${message.indexPath}: ${error}`);
      builder.kill();
      return;
    }
    this.#swap(snapshot);
    if (message.phase === "maximum") builder.sawMaximum = true;
    if (builder.job.kind === "startup" && message.phase === "build") {
      this.options.onBuild?.("startup", (performance.now() - this.#builderStarted) / 1000);
      this.#ready?.resolve(true);
      this.#ready = undefined;
      this.options.onMilestone?.("ready", snapshot);
    }
    if (isReload) {
      this.reloadResults.swapped++;
      this.options.onBuild?.("reload", (performance.now() - this.#builderStarted) / 1000);
      const { added, changed, removed, redirects } = message.diff ?? {
        added: 0,
        changed: 0,
        removed: 0,
        redirects: false,
      };
      const rules = redirects ? ", _redirects changed" : "";
      this.options.log(
        `memserve: reloaded: ${added} added, ${changed} changed, ${removed} removed${rules}, ${snapshot.assets.size} files, in ${this.#took()}`,
      );
      this.#settleWaiters();
    }
  }

  #swap(snapshot: ImageSnapshot): void {
    this.#current = snapshot;
    this.generation++;
    this.swappedAt = performance.now();
    this.server()?.replaceSnapshot(snapshot);
    this.options.publish?.(snapshot.image.indexPath, generationOf(snapshot.image.indexPath));
    this.collect();
    unmapReplacedSoon();
  }

  /** Deletes images and segments nothing serves any more. */
  collect(): void {
    const current = this.#current;
    if (current === undefined) return;
    const mine = generationOf(current.image.indexPath);
    const oldest = Math.min(mine, this.options.oldestServedElsewhere?.() ?? Infinity);
    collectGarbage(this.options.job.runtimeDir, oldest, this.#builder === undefined);
  }

  #failed(kind: BuilderJob["kind"], code: number | string): void {
    if (this.#closed) return;
    if (this.#ready !== undefined) {
      this.#ready.resolve(false);
      this.#ready = undefined;
      return;
    }
    if (kind === "reload") this.reloadResults.failed++;
    const what = kind === "reload" ? "reload failed" : "maximum compression stopped";
    const generation = this.generation;
    this.options.log(
      `memserve: ${what} (builder exited: ${code}); still serving the previous version (snapshot ${generation}); the next reload tries again`,
    );
  }

  #reportMaximum(builder: Builder): void {
    const seconds = (performance.now() - this.#builderStarted) / 1000;
    this.options.onBuild?.("upgrade", seconds);
    if (builder.job.kind === "startup") {
      this.options.log(`memserve: maximum compression in ${seconds.toFixed(2)} s more`);
      if (this.#current !== undefined) this.options.onMilestone?.("maximum", this.#current);
    } else {
      this.options.log(`memserve: maximum compression reached (${this.#took()})`);
    }
  }

  #took(): string {
    return `${((performance.now() - this.#builderStarted) / 1000).toFixed(2)} s`;
  }

  #settleWaiters(): void {
    if (this.#again) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
