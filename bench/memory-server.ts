// memserve as the issue started it: `node bin/memserve.js <dir> …` (the npx entry: a node shim
// that runs the CLI under the pinned bun) from a chosen checkout, under taskset, timed from the
// spawn to the first 200 answer by a connect+GET loop.
import { readFileSync } from "node:fs";
import { rawGet } from "./gate.ts";
import type { MemorySite } from "./memory-corpus.ts";
import { readGauges, type SnapshotGauges } from "./memory-proc.ts";
import { processTree } from "./proc.ts";
import { freePort } from "./servers.ts";
import { type WatchedProcess, watchProcess } from "./startup-proc.ts";

export interface ServeSpec {
  readonly site: MemorySite;
  /** `--workers`; undefined leaves memserve's default. */
  readonly workers: number | undefined;
  /** taskset's CPU list for the whole tree, e.g. "0" or "0-1". */
  readonly cpus: string;
  /** `--cache-dir`; undefined means `--no-cache-dir`. */
  readonly cacheDir?: string;
  readonly admin: boolean;
}

export interface Served {
  readonly url: string;
  /** The node shim; the server and its children are below it. */
  readonly pid: number;
  readonly adminPort: number | undefined;
  /** performance.now() at the spawn. */
  readonly spawnedAt: number;
  /** Spawn to the first 200 for the site's probe path. */
  readonly firstOkMs: number;
  readonly proc: WatchedProcess;
  /**
   * Polls the admin port until every file is at maximum and the builder has exited; ms from spawn
   * and the gauges then.
   */
  waitForMaximum(deadline: number): Promise<{ ms: number; gauges: SnapshotGauges }>;
  stop(): Promise<void>;
}

/** Servers running now, so an interrupted run stops them instead of leaving them behind. */
const running = new Set<() => Promise<void>>();

/** Stops every server still running (on SIGINT/SIGTERM to the harness). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

/** Whether a process exists and has not exited (a zombie has). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Starts memserve from `memserveDir` and resolves once it answered 200; throws at `deadline`. */
export async function serve(
  memserveDir: string,
  spec: ServeSpec,
  deadline: number,
): Promise<Served> {
  const port = await freePort();
  const adminPort = spec.admin ? await freePort() : undefined;
  const argv = ["taskset", "-c", spec.cpus, "node", "bin/memserve.js", spec.site.root];
  argv.push("--port", String(port), "--host", "127.0.0.1", "--shutdown-timeout", "2");
  if (spec.workers !== undefined) argv.push("--workers", String(spec.workers));
  if (adminPort !== undefined) argv.push("--admin-port", String(adminPort));
  argv.push(...(spec.cacheDir === undefined ? ["--no-cache-dir"] : ["--cache-dir", spec.cacheDir]));
  const spawnedAt = performance.now();
  const proc = watchProcess(argv, memserveDir);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    running.delete(stop);
    const tree = processTree(proc.pid);
    await proc.stop(15_000);
    // A child the shim did not take down (a worker, a builder) must not outlive the run.
    for (const pid of tree.slice(1)) if (alive(pid)) killQuietly(pid);
  };
  running.add(stop);
  let firstOkMs = Number.NaN;
  try {
    for (;;) {
      const ok = await rawGet(url, spec.site.probePath, {}, 1000).then(
        (a) => a.status === 200,
        () => false,
      );
      if (ok) {
        firstOkMs = performance.now() - spawnedAt;
        break;
      }
      if (!alive(proc.pid)) throw new Error(`memserve exited: ${proc.stderr().slice(-500)}`);
      if (performance.now() > deadline) throw new Error("no 200 before the step timeout");
      await Bun.sleep(10);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const waitForMaximum = async (until: number) => {
    if (adminPort === undefined) throw new Error("started without --admin-port");
    for (;;) {
      const gauges = await readGauges(adminPort);
      // files > 0: the admin port answers before the site is loaded, with every gauge at 0.
      // And the builder gone: it persists the image for a warm start after the last swap.
      const done = gauges !== undefined && gauges.files > 0 && gauges.belowMaximum === 0;
      if (done && !gauges.building) {
        return { ms: performance.now() - spawnedAt, gauges };
      }
      if (!alive(proc.pid)) throw new Error(`memserve exited: ${proc.stderr().slice(-500)}`);
      if (performance.now() > until) throw new Error("maximum compression not reached in time");
      await Bun.sleep(250);
    }
  };
  return { url, pid: proc.pid, adminPort, spawnedAt, firstOkMs, proc, waitForMaximum, stop };
}
