// Running wrk and reading its text report. wrk prints human units (`451.27us`, `1.20ms`,
// `140.12k`, `80.12MB`), so every number goes through a unit-aware parser.

/** What one wrk run measured. Times in microseconds. */
export interface WrkResult {
  readonly requests: number;
  readonly durationSec: number;
  readonly requestsPerSec: number;
  readonly latencyAvgUs: number;
  readonly latencyP50Us: number;
  readonly latencyP99Us: number;
  readonly bytesRead: number;
  readonly socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** Responses with a status outside 2xx/3xx (wrk's "Non-2xx or 3xx responses"). */
  readonly non2xx3xx: number;
}

const TIME_UNITS: Readonly<Record<string, number>> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };
const COUNT_UNITS: Readonly<Record<string, number>> = { "": 1, k: 1e3, M: 1e6, G: 1e9 };
// wrk's byte units are binary (1024-based), its count units decimal.
const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

function scaled(text: string, units: Readonly<Record<string, number>>, what: string): number {
  const match = /^([\d.]+)([a-zA-Z]*)$/.exec(text.trim());
  const factor = match ? units[match[2] ?? ""] : undefined;
  if (match?.[1] === undefined || factor === undefined) throw new Error(`bad ${what}: "${text}"`);
  return Number(match[1]) * factor;
}

/** `"1.20ms"` -> 1200 (microseconds). */
export const parseDurationUs = (text: string): number => scaled(text, TIME_UNITS, "duration");
/** `"140.12k"` -> 140120. */
export const parseCount = (text: string): number => scaled(text, COUNT_UNITS, "count");
/** `"80.12MB"` -> 84011908 (bytes). */
export const parseBytes = (text: string): number => scaled(text, BYTE_UNITS, "size");

function capture(text: string, pattern: RegExp, what: string): string[] {
  const match = pattern.exec(text);
  if (match === null) throw new Error(`wrk output has no ${what} line:\n${text}`);
  return match.slice(1).map((group) => group ?? "");
}

/** A latency that wrk may leave out (a run in which no request completed): NaN then. */
function optionalUs(text: string, pattern: RegExp): number {
  const value = pattern.exec(text)?.[1];
  return value === undefined ? Number.NaN : parseDurationUs(value);
}

/**
 * Parses wrk's report (run with `--latency`). Throws with the text when the totals line is missing
 * (wrk failed outright); latencies are NaN when wrk printed none.
 *
 * @example parseWrkOutput(out).requestsPerSec // 139000
 */
export function parseWrkOutput(text: string): WrkResult {
  const [requests = "", duration = "", read = ""] = capture(
    text,
    /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read$/m,
    "requests",
  );
  const rps = /^Requests\/sec:\s+([\d.]+)$/m.exec(text)?.[1];
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  // With no completed request wrk prints zeros (or nothing) for latency: neither is a measurement.
  // One-letter units are padded (`   1.10s `), hence the trailing \s* in the percentile patterns.
  const latency = (pattern: RegExp) =>
    Number(requests) > 0 ? optionalUs(text, pattern) : Number.NaN;
  return {
    requests: Number(requests),
    durationSec: parseDurationUs(duration) / 1e6,
    requestsPerSec: rps === undefined ? Number.NaN : Number(rps),
    latencyAvgUs: latency(/^\s*Latency\s+([\d.]+[a-z]+)\s/m),
    latencyP50Us: latency(/^\s*50(?:\.0+)?%\s+([\d.]+[a-z]+)\s*$/m),
    latencyP99Us: latency(/^\s*99(?:\.0+)?%\s+([\d.]+[a-z]+)\s*$/m),
    bytesRead: parseBytes(read),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx3xx: Number(non2xx?.[1] ?? 0),
  };
}

export interface WrkRun {
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The CPU wrk is pinned to, away from the server's. */
  readonly cpu: number;
}

/** The argv for one run: one wrk thread (one core), keep-alive, latency histogram. */
export function wrkCommand(run: WrkRun): string[] {
  const headerArgs = Object.entries(run.headers).flatMap(([name, value]) => [
    "-H",
    `${name}: ${value}`,
  ]);
  return [
    ...["taskset", "-c", String(run.cpu), "wrk", "-t1", `-c${run.connections}`],
    `-d${run.durationSec}s`,
    // wrk's default 2 s timeout would count slow 7 MB responses at 256 connections as errors.
    ...["--timeout", "10s", "--latency", ...headerArgs, run.url],
  ];
}

/** Runs wrk and returns its parsed report and raw text; killed if it overruns by 30 s. */
export async function runWrk(run: WrkRun): Promise<{ result: WrkResult; text: string }> {
  const proc = Bun.spawn(wrkCommand(run), { stdout: "pipe", stderr: "pipe" });
  const guard = setTimeout(() => proc.kill("SIGKILL"), (run.durationSec + 30) * 1000);
  const [text, errors, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(guard);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${errors}${text}`);
  return { result: parseWrkOutput(text), text };
}
