import type { Subprocess } from "bun";
import { encodeSetup, WORKER_ENV } from "./roles.ts";
import { selfCommand } from "./self-command.ts";
import type { PrimaryMessage, WorkerMessage, WorkerSetup } from "./worker-process.ts";

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
 * each mapping the same images of the runtime dir, so the bodies are in memory once whatever N is.
 * `publish` hands every worker the newest image; `oldestServed` says which images are still in use.
 * A worker that dies is started again, except while stopping.
 */
export class WorkerPool {
  readonly #workers: Worker[] = [];
  #latest: { indexPath: string; generation: number } | undefined;
  #stopping = false;

  constructor(
    readonly count: number,
    private readonly setup: WorkerSetup,
    private readonly log: (line: string) => void,
    /** A worker now serves a newer image (the supervisor may delete older ones). */
    private readonly onServing: () => void = () => {},
  ) {}

  /** Hands the image at `indexPath` to every worker (starting them on the first call). */
  publish(indexPath: string, generation: number): void {
    if (this.#stopping) return;
    this.#latest = { indexPath, generation };
    while (this.#workers.length < this.count - 1) this.#workers.push(this.#spawn());
    for (const worker of this.#workers) this.#sendLatest(worker);
  }

  /** The oldest generation a worker may still be serving (Infinity: no worker). */
  oldestServed(): number {
    return Math.min(...this.#workers.map((w) => w.serving || w.firstSent));
  }

  pids(): number[] {
    return this.#workers.map((w) => w.process.pid);
  }

  /** Responses counted by the workers (their last report, at most a second old), for metrics. */
  reports(): Extract<WorkerMessage, { type: "counters" }>[] {
    return this.#workers.flatMap((w) => (w.counters === undefined ? [] : [w.counters]));
  }

  /**
   * Shutdown has begun: every worker drains now, like the primary, and from now on a worker that
   * exits is not replaced.
   */
  beginStop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const worker of this.#workers) send(worker, { type: "drain" });
  }

  /** Stops the workers (if `beginStop` has not yet); resolves when all have exited. */
  async stop(): Promise<void> {
    this.beginStop();
    await Promise.all(this.#workers.map((worker) => worker.process.exited));
  }

  /** Has every worker load the certificate files again (SIGHUP with TLS). */
  reloadTls(): void {
    for (const worker of this.#workers) send(worker, { type: "tls" });
  }

  /** Ends every worker at once (the primary is exiting without a drain). */
  kill(): void {
    this.#stopping = true;
    for (const worker of this.#workers) worker.process.kill("SIGKILL");
  }

  #spawn(): Worker {
    const worker: Worker = {
      process: undefined as unknown as Subprocess,
      serving: 0,
      firstSent: this.#latest?.generation ?? 0,
      counters: undefined,
    };
    worker.process = Bun.spawn({
      cmd: selfCommand(),
      env: { ...process.env, [WORKER_ENV]: encodeSetup(this.setup) },
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (message: WorkerMessage) => {
        if (message.type === "serving") {
          worker.serving = message.generation;
          this.onServing();
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
    if (this.#latest === undefined) return;
    send(worker, { type: "image", path: this.#latest.indexPath, ...this.#latest });
  }
}

function send(worker: Worker, message: PrimaryMessage): void {
  try {
    worker.process.send(message);
  } catch {
    // It has exited (its IPC channel is closed): onExit replaces it, or shutdown is under way.
  }
}
