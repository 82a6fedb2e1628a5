/**
 * How a serving process ends. SIGTERM or SIGINT, the parent's death, or (workers) the primary going
 * away start one graceful drain. The same signal often arrives more than once: a signal to the whole
 * process group (Ctrl-C, systemd's default KillMode=control-group) reaches bun directly and again
 * relayed by bin/memserve.js, and a worker directly and again forwarded by the primary. So a signal
 * within REPEAT_MS of the drain's start is that same signal; only a new one after it means "exit at
 * once". If the drain overruns its timeout by GRACE_MS, the process exits anyway.
 */

export const REPEAT_MS = 1000;
export const GRACE_MS = 2000;
const PARENT_POLL_MS = 500;
/** Read at startup, so a parent that dies while the site loads is noticed too. */
const STARTED_UNDER = process.ppid;

export interface Drain {
  /** Stops accepting and lets responses finish (bounded by the timeout); resolves when done. */
  run(reason: string): Promise<void>;
  /** The last act before exiting at once (a new signal, or a drain that overran). */
  cut?(): void;
}

export type Verdict = "drain" | "ignore" | "exit";

/**
 * Pure: what a trigger at `now` means when the drain began at `since` (undefined: not draining).
 * Only a signal escalates: a parent or primary that goes away during a drain changes nothing.
 */
export function judge(since: number | undefined, now: number, isSignal: boolean): Verdict {
  if (since === undefined) return "drain";
  return isSignal && now - since >= REPEAT_MS ? "exit" : "ignore";
}

/**
 * Pure: the parent this process started under is gone (it was reparented, to PID 1 or a
 * subreaper). A process started by PID 1 (systemd, a container's init) has nothing to watch.
 */
export function parentGone(initial: number, now: number): boolean {
  return initial > 1 && now !== initial;
}

/**
 * Drains on SIGTERM, SIGINT or the parent's death, exits 0 when the drain is done. Returns a
 * trigger for other reasons to drain (a worker's IPC disconnect).
 */
export function drainOnShutdown(timeoutMs: number, drain: Drain): (reason: string) => void {
  let since: number | undefined;
  const exitNow = () => {
    drain.cut?.();
    process.exit(0);
  };
  const trigger = (reason: string, isSignal: boolean) => {
    const verdict = judge(since, performance.now(), isSignal);
    if (verdict === "ignore") return;
    if (verdict === "exit") exitNow();
    since = performance.now();
    setTimeout(exitNow, timeoutMs + GRACE_MS).unref();
    void drain.run(reason).then(() => process.exit(0));
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => trigger(signal, true));
  }
  watchParent(() => trigger("parent process exited", false));
  return (reason) => trigger(reason, false);
}

/**
 * Calls `onGone` once this process's parent has died. Polled: prctl(2) PR_SET_PDEATHSIG is out of
 * Bun's reach, and it fires when the parent *thread* that forked exits, not the parent process.
 */
function watchParent(onGone: () => void): void {
  if (STARTED_UNDER <= 1) return;
  const timer = setInterval(() => {
    if (!parentGone(STARTED_UNDER, process.ppid)) return;
    clearInterval(timer);
    onGone();
  }, PARENT_POLL_MS);
  timer.unref();
}
