// `npm run bench:memory`'s tables: medians over rounds next to the issue's targets and its numbers
// for today. A round's net cost subtracts the 3-file site's cost measured in the same round.
import type { MemoryRun, PassRun } from "./memory-runs.ts";
import { median } from "./report.ts";
import type { Outcome } from "./startup-report.ts";

export interface MemoryCell {
  readonly site: string;
  readonly workers: number;
  readonly rounds: readonly Outcome<MemoryRun>[];
}

export interface WarmCell {
  readonly site: string;
  readonly files: number;
  readonly rounds: readonly Outcome<number>[];
}

export interface Results {
  /** The 3-file site's cell comes first for each worker count. */
  readonly memory: readonly MemoryCell[];
  readonly pass: readonly Outcome<PassRun>[];
  readonly warm: readonly WarmCell[];
  /** Cold starts of the real tree, this checkout and the baseline's, alternating. */
  readonly cold: ColdRuns | undefined;
  readonly tinySite: string;
}

export interface ColdRuns {
  readonly baselineDir: string;
  readonly baseline: readonly Outcome<number>[];
  readonly current: readonly Outcome<number>[];
}

const MIB = 1024;
const mib = (kib: number) => (Number.isFinite(kib) ? (kib / MIB).toFixed(1) : "—");
const sec = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "—");
const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "—");
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "—");
const mark = (ok: boolean | undefined) => (ok === undefined ? "—" : ok ? "✔" : "✘");
const oks = <T>(rounds: readonly Outcome<T>[]) => rounds.flatMap((r) => (r.ok ? [r.value] : []));
const total = (r: MemoryRun) => r.cost.anonKib + r.cost.shmKib;

function mdTable(header: readonly string[], rows: readonly (readonly string[])[], text = 2) {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i < text ? "---" : "---:"))), ...rows.map(line)];
}

/** The limit for a site: 1.15 × served + 8 MiB + 2 KiB per file, in KiB. */
export const memoryTargetKib = (servedBytes: number, files: number) =>
  (1.15 * servedBytes) / 1024 + 8 * MIB + 2 * files;

export interface MemorySummary {
  readonly site: string;
  readonly workers: number;
  readonly rounds: number;
  readonly files: number;
  readonly servedKib: number;
  readonly netKib: number;
  readonly targetKib: number;
  readonly gross: { anon: number; shm: number };
  readonly tiny: { anon: number; shm: number };
  readonly coldMs: number;
  readonly maxMs: number;
  readonly loadAddedKib: number;
  readonly loadIdleKib: number;
  readonly loadPeakKib: number;
  readonly loadRps: number;
  readonly loadErrors: number;
  readonly errors: readonly string[];
}

export function summarizeMemory(results: Results): MemorySummary[] {
  return results.memory
    .filter((c) => c.site !== results.tinySite)
    .map((cell) => {
      const tiny = results.memory.find(
        (c) => c.site === results.tinySite && c.workers === cell.workers,
      );
      const nets: number[] = [];
      cell.rounds.forEach((r, i) => {
        const t = tiny?.rounds[i];
        if (r.ok && t?.ok) nets.push(total(r.value) - total(t.value));
      });
      const runs = oks(cell.rounds);
      const tinyRuns = oks(tiny?.rounds ?? []);
      const of = (pick: (r: MemoryRun) => number, from = runs) => median(from.map(pick));
      const loads = runs.flatMap((r) => (r.load === undefined ? [] : [r.load]));
      const servedKib = of((r) => r.gauges.servedBytes / 1024);
      const files = of((r) => r.gauges.files);
      const e = (l: (typeof loads)[number]) => l.wrk.socketErrors;
      return {
        site: cell.site,
        workers: cell.workers,
        rounds: nets.length,
        files,
        servedKib,
        netKib: median(nets),
        targetKib: memoryTargetKib(servedKib * 1024, files),
        gross: { anon: of((r) => r.cost.anonKib), shm: of((r) => r.cost.shmKib) },
        tiny: {
          anon: of((r) => r.cost.anonKib, tinyRuns),
          shm: of((r) => r.cost.shmKib, tinyRuns),
        },
        coldMs: of((r) => r.coldMs),
        maxMs: of((r) => r.maxMs),
        loadAddedKib: median(loads.map((l) => l.peakKib - l.idleKib)),
        loadIdleKib: median(loads.map((l) => l.idleKib)),
        loadPeakKib: median(loads.map((l) => l.peakKib)),
        loadRps: median(loads.map((l) => l.wrk.requestsPerSec)),
        loadErrors: loads.reduce(
          (n, l) => n + e(l).connect + e(l).read + e(l).write + e(l).timeout + l.wrk.non2xx3xx,
          0,
        ),
        errors: [...cell.rounds, ...(tiny?.rounds ?? [])].flatMap((r) => (r.ok ? [] : [r.error])),
      };
    });
}

export function memoryTable(rows: readonly MemorySummary[]): string[] {
  const header = ["site", "workers", "files", "served MiB", "cost MiB", "cost / served"];
  header.push("target MiB", "", "gross anon + shm MiB", "3-file anon + shm MiB");
  return mdTable(
    header,
    rows.map((r) => [
      r.site,
      String(r.workers),
      int(r.files),
      mib(r.servedKib),
      mib(r.netKib),
      x(r.netKib / r.servedKib),
      mib(r.targetKib),
      mark(Number.isFinite(r.netKib) ? r.netKib <= r.targetKib : undefined),
      `${mib(r.gross.anon)} + ${mib(r.gross.shm)}`,
      `${mib(r.tiny.anon)} + ${mib(r.tiny.shm)}`,
    ]),
  );
}

export function loadTable(rows: readonly MemorySummary[]): string[] {
  const header = ["site", "workers", "idle MiB", "peak MiB", "added MiB", "≤ 16 MiB"];
  header.push("req/s", "wrk errors");
  const measured = rows.filter((r) => Number.isFinite(r.loadAddedKib));
  return mdTable(
    header,
    measured.map((r) => [
      r.site,
      String(r.workers),
      mib(r.loadIdleKib),
      mib(r.loadPeakKib),
      mib(r.loadAddedKib),
      mark(r.loadAddedKib <= 16 * MIB),
      int(r.loadRps),
      String(r.loadErrors),
    ]),
  );
}

export function coldTable(rows: readonly MemorySummary[], pass: readonly Outcome<PassRun>[]) {
  const body = rows.map((r) => [r.site, `${r.workers}, both cores`, sec(r.coldMs), sec(r.maxMs)]);
  const pinned = oks(pass);
  if (pinned.length > 0) {
    const cold = median(pinned.map((p) => p.coldMs));
    body.push(["real", "1, pinned to CPU 0", sec(cold), sec(median(pinned.map((p) => p.maxMs)))]);
  }
  return mdTable(["site", "workers", "first 200", "maximum reached"], body);
}

function coldSummary(cold: ColdRuns) {
  const current = median(oks(cold.current));
  const baseline = median(oks(cold.baseline));
  return { current, baseline, ok: current <= baseline };
}

/** Each round's cold start, the baseline's first. */
export function coldCompareTable(cold: ColdRuns): string[] {
  const each = (runs: readonly Outcome<number>[]) =>
    runs.map((r) => (r.ok ? sec(r.value) : `failed (${r.error})`)).join(", ");
  const { current, baseline } = coldSummary(cold);
  return mdTable(
    ["checkout", "first 200 (median)", "each round"],
    [
      [`baseline (${cold.baselineDir})`, sec(baseline), each(cold.baseline)],
      ["this one", sec(current), each(cold.current)],
    ],
  );
}

export function passSummary(pass: readonly Outcome<PassRun>[]) {
  const runs = oks(pass);
  const ratio = median(runs.map((p) => p.duringRps / p.steadyRps));
  const nginx = median(
    runs.flatMap((p) => (p.nginxRps === undefined ? [] : [p.duringRps / p.nginxRps])),
  );
  return { ratio, nginx };
}

export function passTable(pass: readonly Outcome<PassRun>[]): string[] {
  const header = ["round", "maximum pass", "windows during", "req/s during", "req/s after"];
  header.push("during / after", "nginx req/s", "during / nginx");
  const rows = pass.map((o, i) => {
    if (!o.ok) return [String(i + 1), `failed: ${o.error}`, "—", "—", "—", "—", "—", "—"];
    const p = o.value;
    return [
      String(i + 1),
      `${sec(p.maxMs)}${p.endedAfterLoad ? " (ended after the load)" : ""}`,
      String(p.during.length),
      int(p.duringRps),
      int(p.steadyRps),
      x(p.duringRps / p.steadyRps),
      p.nginxRps === undefined ? "—" : int(p.nginxRps),
      p.nginxRps === undefined ? "—" : x(p.duringRps / p.nginxRps),
    ];
  });
  const s = passSummary(pass);
  rows.push([
    "median",
    "",
    "",
    "",
    "",
    Number.isFinite(s.ratio) ? `${x(s.ratio)} ${mark(s.ratio >= 0.75)}` : "—",
    "",
    x(s.nginx),
  ]);
  return mdTable(header, rows, 1);
}

export interface WarmSummary {
  readonly site: string;
  readonly files: number;
  readonly ms: number;
  readonly overTinyMs: number;
  readonly each: string;
}

export function summarizeWarm(results: Results): WarmSummary[] {
  const tiny = results.warm.find((c) => c.site === results.tinySite);
  return results.warm.map((cell) => {
    const over: number[] = [];
    cell.rounds.forEach((r, i) => {
      const t = tiny?.rounds[i];
      if (r.ok && t?.ok) over.push(r.value - t.value);
    });
    const each = cell.rounds.map((r) => (r.ok ? sec(r.value) : `failed (${r.error})`)).join(", ");
    return {
      site: cell.site,
      files: cell.files,
      ms: median(oks(cell.rounds)),
      overTinyMs: median(over),
      each,
    };
  });
}

/** ≤ 0.4 s over the 3-file site for 20,000 small files, ≤ 0.2 s for the real tree. */
export const warmLimitMs = (site: string, tinySite: string) =>
  site === tinySite ? undefined : site === "real" ? 200 : 400;

export function warmTable(rows: readonly WarmSummary[], tinySite: string): string[] {
  return mdTable(
    ["site", "files", "first 200 (median)", "minus 3-file", "limit", "", "each round"],
    rows.map((r) => {
      const limit = warmLimitMs(r.site, tinySite);
      const ok =
        limit === undefined || !Number.isFinite(r.overTinyMs) ? undefined : r.overTinyMs <= limit;
      const plus = r.site === tinySite ? "—" : `+${sec(r.overTinyMs)}`;
      return [
        r.site,
        int(r.files),
        sec(r.ms),
        plus,
        limit === undefined ? "" : `+${sec(limit)}`,
        mark(ok),
        r.each,
      ];
    }),
    2,
  );
}

/** The targets, measured, next to what the issue measured for today. */
export function targetsTable(results: Results, memory: readonly MemorySummary[]): string[] {
  const rows: string[][] = [];
  for (const m of memory) {
    const today =
      m.site === "real" && m.workers === 1
        ? "2.29x (145 MiB for 63.3 MiB)"
        : m.site.includes("small") && m.workers === 1
          ? "335 MiB (95 MiB served)"
          : "";
    rows.push([
      `memory, ${m.site}, --workers ${m.workers}`,
      `${mib(m.netKib)} MiB = ${x(m.netKib / m.servedKib)} of ${mib(m.servedKib)} MiB`,
      `≤ ${mib(m.targetKib)} MiB`,
      mark(Number.isFinite(m.netKib) ? m.netKib <= m.targetKib : undefined),
      today,
    ]);
  }
  for (const m of memory.filter((r) => Number.isFinite(r.loadAddedKib))) {
    rows.push([
      `load, 7 MB × 256, --workers ${m.workers}`,
      `+${mib(m.loadAddedKib)} MiB`,
      "≤ +16 MiB",
      mark(m.loadAddedKib <= 16 * MIB),
      "",
    ]);
  }
  const pass = passSummary(results.pass);
  if (results.pass.length > 0) {
    rows.push([
      "tiny-file req/s during the maximum pass / after",
      x(pass.ratio),
      "≥ 0.75x",
      mark(Number.isFinite(pass.ratio) ? pass.ratio >= 0.75 : undefined),
      "0.33x (0.39x nginx)",
    ]);
  }
  for (const w of summarizeWarm(results)) {
    const limit = warmLimitMs(w.site, results.tinySite);
    if (limit === undefined) continue;
    const today = w.site === "real" ? "+0.35 s" : "+2.8 s (3.64 s vs 0.82 s)";
    rows.push([
      `warm start, ${w.site}, first 200 minus 3-file`,
      `+${sec(w.overTinyMs)}`,
      `≤ +${sec(limit)}`,
      mark(Number.isFinite(w.overTinyMs) ? w.overTinyMs <= limit : undefined),
      today,
    ]);
  }
  if (results.cold !== undefined) {
    const { current, baseline, ok } = coldSummary(results.cold);
    rows.push([
      "cold start, real, first 200 (--workers 1, alternating with the baseline)",
      `${sec(current)} (${x(current / baseline)} of the baseline)`,
      `≤ ${sec(baseline)}`,
      mark(Number.isFinite(current / baseline) ? ok : undefined),
      `${sec(baseline)} (the baseline checkout, same run)`,
    ]);
  }
  return mdTable(["target", "measured (median)", "limit", "", "the issue's today"], rows, 1);
}
