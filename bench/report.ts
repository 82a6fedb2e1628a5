// Turning rounds of measurements into medians, ratios and markdown tables.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Measurement } from "./measure.ts";

/** All rounds of one server on one scenario. */
export interface CaseResult {
  readonly server: string;
  readonly scenario: string;
  /** What the gate saw, e.g. `200 br 22818 B`. */
  readonly answer?: string;
  /** Why the case was not measured (a wrong answer, or an error while running it). */
  readonly skipped?: string;
  readonly runs: readonly Measurement[];
}

export interface CaseSummary {
  readonly server: string;
  readonly scenario: string;
  readonly answer: string;
  readonly skipped?: string;
  readonly rounds: number;
  readonly requestsPerSec: number;
  readonly cpuUsPerRequest: number;
  readonly p99Us: number;
  readonly rssIdleMiB: number;
  readonly rssPeakMiB: number;
  readonly rssAfterMiB: number;
  /** Socket errors and non-2xx/3xx responses summed over all rounds, e.g. `timeout 3`. */
  readonly errors: string;
}

/** The middle value (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function errorText(runs: readonly Measurement[]): string {
  const totals = { connect: 0, read: 0, write: 0, timeout: 0, "non-2xx/3xx": 0 };
  for (const { wrk } of runs) {
    totals.connect += wrk.socketErrors.connect;
    totals.read += wrk.socketErrors.read;
    totals.write += wrk.socketErrors.write;
    totals.timeout += wrk.socketErrors.timeout;
    totals["non-2xx/3xx"] += wrk.non2xx3xx;
  }
  const parts = Object.entries(totals).filter(([, n]) => n > 0);
  return parts.length === 0 ? "0" : parts.map(([name, n]) => `${name} ${n}`).join(", ");
}

/** Medians per case; memory in MiB. */
export function summarize(result: CaseResult): CaseSummary {
  const of = (pick: (m: Measurement) => number) => median(result.runs.map(pick));
  const mib = (kib: number) => kib / 1024;
  return {
    server: result.server,
    scenario: result.scenario,
    answer: result.answer ?? "",
    ...(result.skipped === undefined ? {} : { skipped: result.skipped }),
    rounds: result.runs.length,
    requestsPerSec: of((m) => m.wrk.requestsPerSec),
    cpuUsPerRequest: of((m) => m.cpuUsPerRequest),
    p99Us: of((m) => m.wrk.latencyP99Us),
    rssIdleMiB: mib(of((m) => m.rssIdleKib)),
    rssPeakMiB: mib(of((m) => m.rssPeakKib)),
    rssAfterMiB: mib(of((m) => m.rssAfterKib)),
    errors: errorText(result.runs),
  };
}

const num = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : "—";

/** 264 -> `264 us`, 1200 -> `1.20 ms`, 2500000 -> `2.50 s`. */
export function formatLatency(us: number): string {
  if (!Number.isFinite(us)) return "—";
  if (us < 1000) return `${Math.round(us)} us`;
  if (us < 1e6) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

/** A markdown table; the first `textColumns` columns left-aligned, the numbers right-aligned. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns: number,
) {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = header.map((_, i) => (i < textColumns ? "---" : "---:"));
  return [line(header), line(rule), ...rows.map(line)].join("\n");
}

/** One row per (scenario, server), in the order given. */
export function formatResultsTable(summaries: readonly CaseSummary[]): string {
  const header = ["scenario", "server", "answer", "req/s", "CPU us/req", "p99"];
  header.push("RSS idle / peak / after (MiB)", "errors");
  const rows = summaries.map((s) => {
    if (s.skipped !== undefined) {
      return [s.scenario, s.server, `skipped: ${s.skipped}`, "—", "—", "—", "—", "—"];
    }
    const rss = [s.rssIdleMiB, s.rssPeakMiB, s.rssAfterMiB].map((v) => num(v, 1)).join(" / ");
    return [
      s.scenario,
      s.server,
      s.answer,
      num(s.requestsPerSec),
      num(s.cpuUsPerRequest, 2),
      formatLatency(s.p99Us),
      rss,
      s.errors,
    ];
  });
  return table(header, rows, 3);
}

const ratio = (a: CaseSummary | undefined, b: CaseSummary | undefined, key: keyof CaseSummary) => {
  if (a === undefined || b === undefined || a.skipped !== undefined || b.skipped !== undefined) {
    return "—";
  }
  const value = (a[key] as number) / (b[key] as number);
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "—";
};

/** The scenarios in the order run, and a lookup of one server's summary for one of them. */
function byCase(summaries: readonly CaseSummary[]) {
  const scenarios = [...new Set(summaries.map((s) => s.scenario))];
  const find = (server: string, scenario: string) =>
    summaries.find((s) => s.server === server && s.scenario === scenario);
  return { scenarios, find };
}

/**
 * memserve over nginx and over the floor, per scenario. For req/s above 1 means memserve is
 * faster; for CPU us/req below 1 means memserve is cheaper.
 */
export function formatRatioTable(summaries: readonly CaseSummary[]): string {
  const { scenarios, find } = byCase(summaries);
  const rows = scenarios.map((scenario) => {
    const [m, n, f, l] = ["memserve", "nginx", "floor", "memserve-log"].map((server) =>
      find(server, scenario),
    );
    return [
      scenario,
      ratio(m, n, "requestsPerSec"),
      ratio(m, n, "cpuUsPerRequest"),
      ratio(m, f, "requestsPerSec"),
      ratio(m, f, "cpuUsPerRequest"),
      ratio(l, m, "requestsPerSec"),
      ratio(l, m, "cpuUsPerRequest"),
    ];
  });
  const header = ["scenario", "req/s memserve/nginx", "CPU/req memserve/nginx"];
  header.push("req/s memserve/floor", "CPU/req memserve/floor");
  header.push("req/s with access log/without", "CPU/req with access log/without");
  return table(header, rows, 1);
}

/**
 * `numerator` over `denominator` per scenario both ran, or undefined when none did: req/s above 1
 * and CPU/req below 1 favour the numerator. Columns are named `req/s <label>`, `CPU/req <label>`.
 */
export function formatPairTable(
  summaries: readonly CaseSummary[],
  numerator: string,
  denominator: string,
  label: string,
): string | undefined {
  const { scenarios, find } = byCase(summaries);
  const rows = scenarios.flatMap((scenario) => {
    const a = find(numerator, scenario);
    const b = find(denominator, scenario);
    if (a === undefined || b === undefined) return [];
    return [[scenario, ratio(a, b, "requestsPerSec"), ratio(a, b, "cpuUsPerRequest")]];
  });
  if (rows.length === 0) return undefined;
  return table(["scenario", `req/s ${label}`, `CPU/req ${label}`], rows, 1);
}

/**
 * Every body by sendfile over every body written, per scenario, when both ran: where CPU/req is
 * under 1 sendfile is cheaper (what the defaults of `--sendfile-min` and `--sendfile-max` follow).
 */
export function formatSendfileTable(summaries: readonly CaseSummary[]): string | undefined {
  return formatPairTable(summaries, "memserve-sendfile", "memserve-write", "sendfile/write");
}

/**
 * memserve with 10,000 rules over memserve without, per scenario both ran (files: what the rules
 * cost a request for a file, ideally 1x), and the absolute numbers of the rules-only scenarios.
 */
export function formatRulesTable(summaries: readonly CaseSummary[]): string | undefined {
  const { scenarios, find } = byCase(summaries);
  const rows = scenarios.flatMap((scenario) => {
    const rules = find("memserve-rules", scenario);
    if (rules === undefined) return [];
    const plain = find("memserve", scenario);
    const shown = rules.skipped === undefined;
    return [
      [
        scenario,
        shown ? num(rules.requestsPerSec) : "—",
        shown ? num(rules.cpuUsPerRequest, 2) : "—",
        ratio(rules, plain, "requestsPerSec"),
        ratio(rules, plain, "cpuUsPerRequest"),
      ],
    ];
  });
  if (rows.length === 0) return undefined;
  const header = ["scenario", "memserve-rules req/s", "CPU us/req"];
  header.push("req/s with rules/without", "CPU/req with rules/without");
  return table(header, rows, 1);
}

/** `<dir>/2026-01-31<suffix>.md`, or `…<suffix>-2.md` (-3, …) when that one exists: never overwrite. */
export function reportPath(dir: string, suffix = ""): string {
  const day = new Date().toISOString().slice(0, 10);
  let path = join(dir, `${day}${suffix}.md`);
  for (let n = 2; existsSync(path); n++) path = join(dir, `${day}${suffix}-${n}.md`);
  return path;
}
