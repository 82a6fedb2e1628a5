// One process of the startup benchmark, watched from its spawn: when each stdout line arrived,
// its peak RSS (VmRSS and VmHWM sampled every 50 ms), and a bounded stop.
import { readStatusKib } from "./proc.ts";

const SAMPLE_MS = 50;
const KEEP_CHARS = 65_536;

export interface TimedLine {
  /** Milliseconds from spawn to the moment the harness read the line. */
  readonly ms: number;
  readonly text: string;
}

export interface WatchedProcess {
  readonly pid: number;
  /** Every complete stdout line so far, in order. */
  readonly lines: readonly TimedLine[];
  /** The first stdout line containing `needle`; rejects on exit, on `failOn` in stderr, at `deadline`. */
  waitForLine(needle: string, deadline: number): Promise<TimedLine>;
  /** Resolves with ms from spawn to exit and the exit code; kills the process at `deadline`. */
  waitForExit(deadline: number): Promise<{ readonly ms: number; readonly code: number }>;
  /** Highest VmRSS / VmHWM seen so far, in KiB. */
  peakRssKib(): number;
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs`, then waits for the exit and the pipes. */
  stop(graceMs?: number): Promise<void>;
}

/** VmRSS and VmHWM (the kernel's own high-water mark) of one process, in KiB; 0 when gone. */
function readRssAndHwmKib(pid: number): number {
  return Math.max(readStatusKib(pid, "VmRSS"), readStatusKib(pid, "VmHWM"));
}

async function drain(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  onText(decoder.decode());
}

/**
 * Spawns `argv` in `cwd` and starts watching it. `failOn` in stderr (e.g. memserve's
 * "maximum compression failed" warning) makes every pending wait reject at once.
 */
export function watchProcess(
  argv: readonly string[],
  cwd: string,
  failOn?: RegExp,
): WatchedProcess {
  const started = performance.now();
  const proc = Bun.spawn([...argv], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const lines: TimedLine[] = [];
  let partial = "";
  let stderr = "";
  let exitMs: number | undefined;
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, readRssAndHwmKib(proc.pid));
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  const stdoutDone = drain(proc.stdout, (text) => {
    const now = performance.now() - started;
    const parts = `${partial}${text}`.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) lines.push({ ms: now, text: line });
  });
  const stderrDone = drain(proc.stderr, (text) => {
    if (stderr.length < KEEP_CHARS) stderr += text;
  });
  const exited = proc.exited.then((code) => {
    exitMs = performance.now() - started;
    clearInterval(sampler);
    return code;
  });
  // Both pipes read to the end: nothing the process printed before exiting is missed.
  const finished = Promise.all([exited, stdoutDone, stderrDone]);
  let done = false;
  void finished.then(() => {
    done = true;
  });

  const failure = (): string | undefined => {
    const match = failOn?.exec(stderr);
    if (match !== undefined && match !== null) {
      const line = stderr.slice(match.index).split("\n")[0] ?? "";
      return `it reported: ${line.trim()}`;
    }
    return undefined;
  };

  const kill = (signal: NodeJS.Signals) => {
    try {
      proc.kill(signal);
    } catch {
      // Already gone.
    }
  };

  return {
    pid: proc.pid,
    lines,
    async waitForLine(needle, deadline) {
      for (;;) {
        const found = lines.find((line) => line.text.includes(needle));
        if (found !== undefined) return found;
        const failed = failure();
        if (failed !== undefined) throw new Error(`waiting for "${needle}": ${failed}`);
        if (done) {
          throw new Error(
            `exited with ${proc.exitCode} before printing "${needle}"; stderr: ${stderr.trim().slice(-500)}`,
          );
        }
        if (performance.now() > deadline) throw new Error(`timed out waiting for "${needle}"`);
        await Bun.sleep(5);
      }
    },
    async waitForExit(deadline) {
      const timer = setTimeout(() => kill("SIGKILL"), Math.max(0, deadline - performance.now()));
      try {
        const code = await exited;
        await finished;
        if (performance.now() >= deadline) throw new Error("timed out waiting for the exit");
        return { ms: exitMs ?? Number.NaN, code };
      } finally {
        clearTimeout(timer);
      }
    },
    peakRssKib: () => {
      if (exitMs === undefined) sample();
      return peak;
    },
    stderr: () => stderr,
    async stop(graceMs = 15_000) {
      if (exitMs === undefined) {
        kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      await finished;
    },
  };
}
