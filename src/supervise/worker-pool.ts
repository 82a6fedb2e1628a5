import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { readImage, writeImage } from "../snapshot/image.ts";
import type { Snapshot } from "../snapshot/types.ts";
import { WORKER_ENV, type WorkerMessage, type WorkerSetup } from "./worker-process.ts";

// The CLI entry point, which runs a worker when WORKER_ENV is set.
const RUN = join(import.meta.dir, "..", "cli", "run.ts");

interface Worker {
  process: Subprocess;
  /** Image generation it serves (0: none yet). */
  serving: number;
  /** The first generation sent to it: until it serves one, it may still open any since. */
  firstSent: number;
  counters: Extract<WorkerMessage, { type: "counters" }> | undefined;
}

/**
 * The primary's side of `--workers N`: N - 1 worker processes on the primary's port (SO_REUSEPORT),
 * all serving one snapshot image on tmpfs that each maps privately, so the bodies are in memory
 * once whatever N is. `publish` writes a new image for every new snapshot (startup, upgrade
 * batches, reloads) and returns the mapped snapshot the primary serves itself; an image is deleted
 * once no process serves it. A worker that dies is started again.
 */
export class WorkerPool {
  readonly #workers: Worker[] = [];
  readonly #dir: string;
  #generation = 0;
  #stopping = false;

  constructor(
    readonly count: number,
    private readonly setup: WorkerSetup,
    private readonly log: (line: string) => void,
  ) {
    // tmpfs when there is one: its pages are the shared memory; a disk file would also work, through
    // the page cache, but would write the site to disk.
    const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
    this.#dir = mkdtempSync(join(base, "memserve-"));
  }

  /** Writes `snapshot` as the next image, hands it to every worker, returns it mapped for the primary. */
  publish(snapshot: Snapshot): Snapshot {
    this.#generation++;
    const path = this.#path(this.#generation);
    writeImage(snapshot, path);
    const mapped = readImage(path);
    while (this.#workers.length < this.count - 1) this.#workers.push(this.#spawn());
    for (const worker of this.#workers) this.#sendLatest(worker);
    this.#deleteUnused();
    return mapped;
  }

  /** Responses counted by the workers (their last report, at most a second old), for metrics. */
  reports(): Extract<WorkerMessage, { type: "counters" }>[] {
    return this.#workers.flatMap((w) => (w.counters === undefined ? [] : [w.counters]));
  }

  /** SIGTERM to every worker (each drains like the primary), then the images go. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const worker of this.#workers) worker.process.kill("SIGTERM");
    await Promise.all(this.#workers.map((worker) => worker.process.exited));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #path(generation: number): string {
    return join(this.#dir, `${generation}.img`);
  }

  #spawn(): Worker {
    const worker: Worker = {
      process: undefined as unknown as Subprocess,
      serving: 0,
      firstSent: this.#generation,
      counters: undefined,
    };
    worker.process = Bun.spawn({
      cmd: [process.execPath, RUN],
      env: { ...process.env, [WORKER_ENV]: JSON.stringify(this.setup) },
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (message: WorkerMessage) => {
        if (message.type === "serving") {
          worker.serving = message.generation;
          this.#deleteUnused();
        } else {
          worker.counters = message;
        }
      },
      onExit: (_, code, signal) => {
        if (this.#stopping) return;
        this.log(
          `memserve: worker ${worker.process.pid} exited (${signal ?? code}); starting another`,
        );
        const index = this.#workers.indexOf(worker);
        const next = this.#spawn();
        this.#workers[index] = next;
        this.#sendLatest(next);
      },
    });
    return worker;
  }

  #sendLatest(worker: Worker): void {
    worker.process.send({
      type: "image",
      path: this.#path(this.#generation),
      generation: this.#generation,
    });
  }

  /** Unlinks images no worker serves any more (a mapped file lives on until it is unmapped). */
  #deleteUnused(): void {
    const oldest = Math.min(
      this.#generation,
      ...this.#workers.map((w) => w.serving || w.firstSent),
    );
    for (let generation = oldest - 1; generation > 0; generation--) {
      const path = this.#path(generation);
      if (!existsSync(path)) break;
      rmSync(path, { force: true });
    }
  }
}
