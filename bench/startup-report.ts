// The startup benchmark's results: per-round records, medians against the targets, and markdown.
import { median } from "./report.ts";

/** A step of one round: its value, or why it has none. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** One memserve server run (cold or warm), from spawn to SIGTERM. */
export interface ServeRun {
  /** Spawn to the stdout line with `http://`. */
  readonly readyMs: number;
  /** Spawn to the stdout line with `maximum compression`. */
  readonly maxMs: number;
  /** That line, e.g. `memserve: already at maximum compression`. */
  readonly maxLine: string;
  readonly peakRssKib: number;
  /** From `memory  X bodies` (the first such line); NaN when missing. */
  readonly snapshotBytes: number;
  /** Problems of the check at ready (a request per coding to a compressible file); empty when fine. */
  readonly encodingProblems: readonly string[];
  /** `/css/main.css` -> `br 22818` after maximum compression, asked with `Accept-Encoding: br`. */
  readonly brAnswers: ReadonlyMap<string, string>;
  /** Round 1's stdout, with the time each line arrived. */
  readonly stdout: readonly string[];
}

export interface BuildRun {
  readonly ms: number;
  readonly peakRssKib: number;
  readonly stdout: readonly string[];
}

export interface RoundResult {
  /** undefined when the reference is skipped (smoke run without brotli/zstd). */
  readonly reference: Outcome<number> | undefined;
  readonly cold: Outcome<ServeRun>;
  readonly build: Outcome<BuildRun>;
  readonly warm: Outcome<ServeRun>;
}

export const COLD_READY_TARGET_MS = 2000;
export const WARM_MAX_TARGET_MS = 1000;
/** Peak RSS may exceed the snapshot's bytes by this fraction. */
export const RSS_HEADROOM = 0.25;

const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "—");
const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : "—");
const mark = (ok: boolean | undefined) => (ok === undefined ? "—" : ok ? "✔" : "✘");

/** `"64.0 MiB"` -> 67108864; NaN for anything else. */
export function parseSize(text: string): number {
  const match = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(text.trim());
  if (match?.[1] === undefined || match[2] === undefined) return Number.NaN;
  const power = ["B", "KiB", "MiB", "GiB"].indexOf(match[2]);
  return Number(match[1]) * 1024 ** power;
}

/** The snapshot's bytes from memserve's summary line `memory  64.0 MiB bodies + …`. */
export function snapshotBytesOf(lines: readonly string[]): number {
  for (const line of lines) {
    const match = /memory\s+(.+?) (?:bodies|held in the snapshot)/.exec(line);
    if (match?.[1] !== undefined) return parseSize(match[1]);
  }
  return Number.NaN;
}

export interface Row {
  readonly name: string;
  readonly values: readonly (number | string)[];
  readonly format: (value: number) => string;
  readonly target: string;
  readonly ok: boolean | undefined;
  readonly median: number;
}

function row(
  name: string,
  outcomes: readonly (Outcome<number> | undefined)[],
  format: (value: number) => string,
  target?: { readonly text: string; readonly check: (median: number) => boolean | undefined },
): Row {
  const values = outcomes.map((o) => (o === undefined ? "skipped" : o.ok ? o.value : "failed"));
  const numbers = values.filter((v): v is number => typeof v === "number");
  const mid = median(numbers);
  const complete = numbers.length === values.length && numbers.length > 0;
  const ok = target === undefined ? undefined : complete ? target.check(mid) : false;
  return { name, values, format, target: target?.text ?? "—", ok, median: mid };
}

function pick<T, U>(outcome: Outcome<T>, get: (value: T) => U): Outcome<U> {
  return outcome.ok ? { ok: true, value: get(outcome.value) } : outcome;
}

/** The table's rows, medians over the rounds; a failed round fails a row that has a target. */
export function startupRows(rounds: readonly RoundResult[]): Row[] {
  const cold = rounds.map((r) => r.cold);
  const warm = rounds.map((r) => r.warm);
  const reference = rounds.map((r) => r.reference);
  const referenceMs = median(
    reference.flatMap((o) => (o?.ok === true && Number.isFinite(o.value) ? [o.value] : [])),
  );
  const coldSnapshot = median(cold.flatMap((o) => (o.ok ? [o.value.snapshotBytes] : [])));
  const warmSnapshot = median(warm.flatMap((o) => (o.ok ? [o.value.snapshotBytes] : [])));
  const rssLimitKib = (bytes: number) => (bytes * (1 + RSS_HEADROOM)) / 1024;
  const rssTarget = (snapshot: number) => ({
    text: `≤ snapshot ${mib(snapshot / 1024)} + ${RSS_HEADROOM * 100}% = ${mib(rssLimitKib(snapshot))}`,
    check: (peak: number) =>
      Number.isFinite(snapshot) ? peak <= rssLimitKib(snapshot) : undefined,
  });
  return [
    row(
      "cold: time to ready (serving br, zstd, gzip)",
      cold.map((o) => pick(o, (v) => v.readyMs)),
      seconds,
      {
        text: `≤ ${seconds(COLD_READY_TARGET_MS)}`,
        check: (ms) => ms <= COLD_READY_TARGET_MS,
      },
    ),
    row(
      "cold: time to maximum compression",
      cold.map((o) => pick(o, (v) => v.maxMs)),
      seconds,
      {
        text: Number.isFinite(referenceMs)
          ? `≤ reference (${seconds(referenceMs)})`
          : "≤ reference (none measured)",
        check: (ms) => (Number.isFinite(referenceMs) ? ms <= referenceMs : undefined),
      },
    ),
    row("reference: brotli -q 11, zstd -19, gzip -9, 2 at a time", reference, seconds),
    row(
      "build: `memserve build`, empty store",
      rounds.map((r) => pick(r.build, (v) => v.ms)),
      seconds,
    ),
    row(
      "warm restart: time to ready",
      warm.map((o) => pick(o, (v) => v.readyMs)),
      seconds,
    ),
    row(
      "warm restart: time to maximum compression",
      warm.map((o) => pick(o, (v) => v.maxMs)),
      seconds,
      {
        text: `≤ ${seconds(WARM_MAX_TARGET_MS)}`,
        check: (ms) => ms <= WARM_MAX_TARGET_MS,
      },
    ),
    row(
      "cold: peak RSS",
      cold.map((o) => pick(o, (v) => v.peakRssKib)),
      mib,
      rssTarget(coldSnapshot),
    ),
    row(
      "warm restart: peak RSS",
      warm.map((o) => pick(o, (v) => v.peakRssKib)),
      mib,
      rssTarget(warmSnapshot),
    ),
    row(
      "build: peak RSS",
      rounds.map((r) => pick(r.build, (v) => v.peakRssKib)),
      mib,
    ),
  ];
}

/** The markdown table of the rows (median, each round, target, verdict). */
export function formatStartupTable(rows: readonly Row[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const body = rows.map((r) => {
    const each = r.values.map((v) => (typeof v === "number" ? r.format(v) : v)).join(" / ");
    return line([r.name, r.format(r.median), each, r.target, mark(r.ok)]);
  });
  const header = line(["measure", "median", "rounds", "target", ""]);
  return [header, line(["---", "---:", "---:", "---", ":-:"]), ...body].join("\n");
}

/** Markdown bullets: the encodings check at ready and the br answers of cold vs warm, per round. */
export function correctnessLines(rounds: readonly RoundResult[]): {
  readonly lines: string[];
  readonly ok: boolean;
} {
  const lines: string[] = [];
  let ok = true;
  rounds.forEach((round, i) => {
    const n = `round ${i + 1}`;
    for (const [label, run] of [
      ["cold", round.cold],
      ["warm", round.warm],
    ] as const) {
      if (!run.ok) {
        ok = false;
        lines.push(`- ${n}, ${label}: ✘ ${run.error}`);
        continue;
      }
      const problems = run.value.encodingProblems;
      if (problems.length > 0) ok = false;
      lines.push(
        `- ${n}, ${label}: at ready ${problems.length === 0 ? "✔ serving br, zstd and gzip" : `✘ ${problems.join("; ")}`}; ${run.value.maxLine.replace(/^memserve: /, "")}`,
      );
    }
    if (!round.build.ok) {
      ok = false;
      lines.push(`- ${n}, build: ✘ ${round.build.error}`);
    }
    if (round.reference !== undefined && !round.reference.ok) {
      ok = false;
      lines.push(`- ${n}, reference: ✘ ${round.reference.error}`);
    }
    if (round.cold.ok && round.warm.ok) {
      const cold = round.cold.value.brAnswers;
      const warm = round.warm.value.brAnswers;
      const diff = [...cold].filter(([path, answer]) => warm.get(path) !== answer);
      if (diff.length > 0) ok = false;
      const text = [...cold].map(([path, answer]) => `${path} ${answer}`).join(", ");
      lines.push(
        diff.length === 0
          ? `- ${n}: ✔ warm serves the cold run's maximum-compression bytes with Accept-Encoding: br (${text})`
          : `- ${n}: ✘ warm answers differ from cold: ${diff.map(([path, answer]) => `${path} cold ${answer}, warm ${warm.get(path)}`).join("; ")}`,
      );
    }
  });
  return { lines, ok };
}
