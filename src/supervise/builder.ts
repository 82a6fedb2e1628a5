import { readdirSync } from "node:fs";
import type { Subprocess } from "bun";
import type { BuilderJob, BuilderMessage } from "./builder-job.ts";
import { BUILDER_ENV, encodeSetup } from "./roles.ts";
import { selfCommand } from "./self-command.ts";

/**
 * Moves this process, every thread of it, to the lowest priorities: SCHED_IDLE (sched(7): runs
 * only when a core would otherwise idle), nice 19 and the idle I/O class (best effort: a missing
 * tool or a refusal leaves it as it was). `chrt --all-tasks` covers every thread;
 * nice and the I/O class are per thread on Linux, so each task is reniced.
 */
export function lowerPriority(): void {
  const run = (cmd: string[]) => {
    try {
      Bun.spawnSync({ cmd, stdout: "ignore", stderr: "ignore" });
    } catch {
      // the tool is missing: keep the priority we have
    }
  };
  const pid = String(process.pid);
  run(["chrt", "--idle", "--all-tasks", "--pid", "0", pid]);
  let tasks: string[] = [pid];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    // not Linux: the process alone
  }
  run(["renice", "-n", "19", "-p", ...tasks]);
  for (const task of tasks) run(["ionice", "-c", "3", "-p", task]);
}

export interface Builder {
  readonly pid: number;
  readonly job: BuilderJob;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  kill(): void;
  /** It has reported an image or an unchanged tree (a reload asked for now must run again). */
  imageSeen: boolean;
  /** It has reported the last image of an upgrade. */
  sawMaximum: boolean;
}

/**
 * Starts a builder process for `job` at the lowest CPU and I/O priority. It reports through
 * `onMessage` and exits when the job is done (0) or failed (1, after printing why to stderr).
 */
export function startBuilder(
  job: BuilderJob,
  onMessage: (message: BuilderMessage) => void,
): Builder {
  let process_: Subprocess;
  const exited = new Promise<number | string>((resolve) => {
    process_ = Bun.spawn({
      // A build runs at normal priority: at startup nothing is served yet, and a reload reads only
      // what changed, yet at nice 19 a server busy on both cores starved it (the new version came
      // 2.7 s after the writes instead of under 1 s). The upgrade pass, the long part, runs at the
      // lowest priority (`lowerPriority`).
      cmd: selfCommand(),
      env: { ...process.env, [BUILDER_ENV]: encodeSetup(job) },
      stdio: ["ignore", "inherit", "inherit"],
      serialization: "json",
      ipc: (message: BuilderMessage) => onMessage(message),
      onExit: (_, code, signal) => resolve(signal ?? code ?? 1),
    });
  });
  // biome-ignore lint/style/noNonNullAssertion: assigned synchronously by the Promise executor
  const child = process_!;
  return {
    pid: child.pid,
    job,
    exited,
    kill: () => child.kill("SIGKILL"),
    imageSeen: false,
    sawMaximum: false,
  };
}
