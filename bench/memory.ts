// `npm run bench:memory`: the measurements of issue 10 in one run. What memserve's processes cost
// after the maximum pass (on a real third-party tree and on 20,000 small files, 1 and 2 workers),
// what a 7 MB × 256-connection load adds, tiny-file req/s during the pass against after it, and the
// first 200 on a warm and a cold start. See bench/README.md.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensurePackages, missingPackages } from "./install.ts";
import { describeMachine, pinSelfToLoadCpu } from "./machine.ts";
import {
  ensureRealSite,
  ensureSmallSite,
  ensureSmokeRealSite,
  ensureTinySite,
  type MemorySite,
} from "./memory-corpus.ts";
import {
  type ColdRuns,
  coldCompareTable,
  coldTable,
  loadTable,
  type MemoryCell,
  memoryTable,
  passTable,
  type Results,
  summarizeMemory,
  summarizeWarm,
  targetsTable,
  type WarmCell,
  warmTable,
} from "./memory-report.ts";
import {
  coldRun,
  fillCache,
  type MemoryRun,
  memoryRun,
  passRun,
  type RunContext,
  warmRun,
} from "./memory-runs.ts";
import { stopAll } from "./memory-server.ts";
import { positive } from "./options.ts";
import { reportPath } from "./report.ts";
import type { Outcome } from "./startup-report.ts";

const BENCH_DIR = import.meta.dir;
const REPO = dirname(BENCH_DIR);
const started = performance.now();
const log = (line: string) =>
  console.error(`bench:memory: [${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
const PARTS = ["memory", "warm", "pass", "cold"] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: bun bench/memory.ts [options]

Issue 10's measurements: memory cost after the maximum pass (real tree and 20,000 small files,
--workers 1 and 2, minus a 3-file site), a 7 MB x 256-connection load, tiny-file req/s during the
maximum pass against after it (server on CPU 0, wrk on CPU 1), and the first 200 on warm and cold
starts. Writes bench/results/<date>-memory[-<label>].md.

  --rounds <n>           rounds; the report shows medians (default 3)
  --memserve-dir <path>  the checkout whose bin/memserve.js is measured (default: this one)
  --baseline-dir <path>  a checkout (with node_modules) to compare cold starts with: the cold part
                         alternates the two, 2 x rounds + 1 starts each (no cold part without it)
  --parts <a,b>          subset of: ${PARTS.join(", ")} (default all)
  --label <name>         report name suffix, e.g. baseline -> <date>-memory-baseline.md
  --out <dir>            report directory (default bench/results; a temp dir with --smoke)
  --rest <s>             rest after maximum before measuring (default 5)
  --step-timeout <s>     longest one server run may take (default 900)
  --smoke                tiny trees, 1 round, short runs; wrk/nginx parts only if installed
  -h, --help`;

interface Options {
  readonly smoke: boolean;
  readonly rounds: number;
  readonly memserveDir: string;
  readonly baselineDir: string | undefined;
  readonly parts: readonly Part[];
  readonly label: string | undefined;
  readonly out: string | undefined;
  readonly restMs: number;
  readonly stepTimeoutMs: number;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: "string" },
      "memserve-dir": { type: "string" },
      "baseline-dir": { type: "string" },
      parts: { type: "string" },
      label: { type: "string" },
      out: { type: "string" },
      rest: { type: "string" },
      "step-timeout": { type: "string" },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const smoke = values.smoke;
  const parts = (values.parts?.split(",") ?? [...PARTS]).map((name) => {
    const part = PARTS.find((p) => p === name.trim());
    if (part === undefined) throw new Error(`unknown part "${name}"; known: ${PARTS.join(", ")}`);
    return part;
  });
  const memserveDir = checkout(values["memserve-dir"] ?? REPO);
  const baselineDir =
    values["baseline-dir"] === undefined ? undefined : checkout(values["baseline-dir"]);
  return {
    smoke,
    rounds: Math.round(positive(values.rounds, smoke ? 1 : 3, "--rounds")),
    memserveDir,
    baselineDir,
    parts,
    label: values.label,
    out: values.out,
    restMs: positive(values.rest, smoke ? 0.3 : 5, "--rest", true) * 1000,
    stepTimeoutMs: positive(values["step-timeout"], smoke ? 60 : 900, "--step-timeout") * 1000,
  };
}

function checkout(path: string): string {
  const dir = resolve(path);
  if (!existsSync(join(dir, "bin/memserve.js"))) throw new Error(`${dir} has no bin/memserve.js`);
  return dir;
}

async function settle<T>(what: string, run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "error";
    log(`${what} failed: ${message}`);
    return { ok: false, error: message };
  }
}

function checkoutOf(dir: string): string {
  const git = (...args: string[]) =>
    spawnSync("git", ["-C", dir, ...args], { encoding: "utf8" }).stdout?.trim() ?? "";
  const dirty = git("status", "--porcelain", "--untracked-files=no") === "" ? "" : ", modified";
  return `${dir} at ${git("log", "-1", "--format=%h (%cs)")}${dirty}`;
}

interface Sites {
  readonly tiny: MemorySite;
  readonly real: MemorySite;
  readonly small: MemorySite;
}

function ensureSites(o: Options, scratch: string): Sites {
  const base = o.smoke ? scratch : join(BENCH_DIR, ".corpus");
  const tiny = ensureTinySite(join(base, "tiny3"));
  const real = o.smoke
    ? ensureSmokeRealSite(join(base, "real"))
    : ensureRealSite(join(base, "real"), log);
  const small = ensureSmallSite(join(base, o.smoke ? "small" : "small20k"), o.smoke ? 60 : 20_000);
  for (const s of [tiny, real, small])
    log(`${s.name}: ${s.files} files, ${(s.rawBytes / 1048576).toFixed(1)} MiB raw (${s.root})`);
  return { tiny, real, small };
}

/** Rounds outermost, so a noisy minute on a shared machine hits every site alike. */
async function runMemory(ctx: RunContext, sites: Sites, rounds: number): Promise<MemoryCell[]> {
  const order = [sites.tiny, sites.real, sites.small];
  const cells = [1, 2].flatMap((workers) =>
    order.map((site) => ({ site: site.name, workers, rounds: [] as Outcome<MemoryRun>[] })),
  );
  for (let round = 1; round <= rounds; round++) {
    for (const cell of cells) {
      const site = order.find((s) => s.name === cell.site) ?? sites.tiny;
      const what = `memory round ${round}, ${site.name}, --workers ${cell.workers}`;
      const out = await settle(what, () => memoryRun(ctx, site, cell.workers, site === sites.real));
      if (out.ok) {
        const c = out.value.cost;
        log(
          `${what}: anon ${(c.anonKib / 1024).toFixed(1)} + shm ${(c.shmKib / 1024).toFixed(1)} MiB, served ${(out.value.gauges.servedBytes / 1048576).toFixed(1)} MiB`,
        );
      }
      cell.rounds.push(out);
    }
  }
  return cells;
}

async function runWarm(ctx: RunContext, sites: Sites, rounds: number): Promise<WarmCell[]> {
  const order = [sites.tiny, sites.small, sites.real];
  const cells: { site: string; files: number; rounds: Outcome<number>[] }[] = [];
  const caches = new Map<string, Outcome<string>>();
  for (const site of order) {
    const dir = mkdtempSync(join(ctx.workDir, "cache-"));
    const filled = await settle(`filling the cache for ${site.name}`, () =>
      fillCache(ctx, site, dir),
    );
    caches.set(site.name, filled.ok ? { ok: true, value: dir } : filled);
    cells.push({ site: site.name, files: site.files, rounds: [] });
  }
  for (let round = 1; round <= rounds; round++) {
    for (const site of order) {
      const cache = caches.get(site.name);
      const cell = cells.find((c) => c.site === site.name);
      if (cache === undefined || cell === undefined) continue;
      const what = `warm round ${round}, ${site.name}`;
      const out = cache.ok ? await settle(what, () => warmRun(ctx, site, cache.value)) : cache;
      if (out.ok) log(`${what}: first 200 in ${(out.value / 1000).toFixed(2)} s`);
      cell.rounds.push(out);
    }
  }
  return cells;
}

/** Baseline first in each round, so neither side always runs right after a heavier step. */
async function runCold(
  ctx: RunContext,
  real: MemorySite,
  baselineDir: string,
  rounds: number,
): Promise<ColdRuns> {
  const baseline: Outcome<number>[] = [];
  const current: Outcome<number>[] = [];
  for (let round = 1; round <= 2 * rounds + 1; round++) {
    for (const [dir, into, name] of [
      [baselineDir, baseline, "baseline"],
      [ctx.memserveDir, current, "this checkout"],
    ] as const) {
      const what = `cold round ${round}, ${name}`;
      const out = await settle(what, () => coldRun(ctx, real, dir));
      if (out.ok) log(`${what}: first 200 in ${(out.value / 1000).toFixed(2)} s`);
      into.push(out);
    }
  }
  return { baselineDir, baseline, current };
}

async function runPass(ctx: RunContext, real: MemorySite, rounds: number) {
  const out: Outcome<Awaited<ReturnType<typeof passRun>>>[] = [];
  for (let round = 1; round <= rounds; round++) {
    const run = await settle(`pass round ${round}`, () => passRun(ctx, real));
    if (run.ok) {
      const v = run.value;
      log(
        `pass round ${round}: ${Math.round(v.duringRps)} req/s during (${v.during.length} windows), ${Math.round(v.steadyRps)} after`,
      );
    }
    out.push(run);
  }
  return out;
}

/** wrk (and nginx for the reference) are installed when missing, except in smoke runs. */
function tools(o: Options, notes: string[]): { wrk: boolean; nginx: boolean } {
  if (!o.smoke) {
    try {
      ensurePackages(o.parts.includes("pass"), log);
    } catch (error) {
      notes.push(`- not installed: ${(error as Error).message}`);
    }
  }
  const wrk = !missingPackages(false).includes("wrk");
  // A smoke run stays short: the nginx reference is for full runs only.
  const nginx = wrk && !o.smoke && missingPackages(true).length === 0;
  if (!wrk) notes.push("- wrk is missing: the load and the background-pass parts were skipped");
  else if (!nginx) notes.push("- nginx or its brotli_static module is missing: no nginx reference");
  return { wrk, nginx };
}

async function main(argv: readonly string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o === "help") {
    console.log(USAGE);
    return 0;
  }
  const notes: string[] = [];
  const cores = availableParallelism();
  const { wrk, nginx } = tools(o, notes);
  const canPin = cores >= 2;
  // The harness and wrk share CPU 1; every server is given its CPUs explicitly.
  if (canPin) pinSelfToLoadCpu();
  const workDir = mkdtempSync(join(tmpdir(), "memserve-memory-"));
  const ctx: RunContext = {
    memserveDir: o.memserveDir,
    allCpus: `0-${cores - 1}`,
    restMs: o.restMs,
    loadSec: o.smoke ? 1 : 10,
    windowSec: o.smoke ? 1 : 3,
    passWindows: o.smoke ? 2 : 20,
    steadySec: o.smoke ? 1 : 10,
    stepTimeoutMs: o.stepTimeoutMs,
    wrk,
    nginx,
    workDir,
    log,
  };
  let results: Results;
  try {
    const sites = ensureSites(o, workDir);
    const has = (p: Part) => o.parts.includes(p);
    const pass = has("pass") && wrk && canPin;
    if (has("pass") && !canPin) notes.push("- one CPU: the background-pass part needs two");
    if (has("cold") && o.baselineDir === undefined)
      notes.push("- no --baseline-dir: the cold start was not compared");
    results = {
      tinySite: sites.tiny.name,
      memory: has("memory") ? await runMemory(ctx, sites, o.rounds) : [],
      warm: has("warm") ? await runWarm(ctx, sites, o.rounds) : [],
      pass: pass ? await runPass(ctx, sites.real, o.rounds) : [],
      cold:
        has("cold") && o.baselineDir !== undefined
          ? await runCold(ctx, sites.real, o.baselineDir, o.rounds)
          : undefined,
    };
    notes.push(...siteNotes(sites));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const report = render(o, results, notes);
  console.log(report.text);
  const outDir =
    o.out ??
    (o.smoke ? mkdtempSync(join(tmpdir(), "memserve-memory-report-")) : join(BENCH_DIR, "results"));
  mkdirSync(outDir, { recursive: true });
  const path = reportPath(outDir, o.label === undefined ? "-memory" : `-memory-${o.label}`);
  writeFileSync(path, report.text);
  log(`wrote ${path}`);
  return report.failures === 0 ? 0 : 1;
}

function siteNotes(sites: Sites): string[] {
  return [sites.real, sites.small, sites.tiny].map(
    (s) => `- ${s.name}: ${s.files} files, ${(s.rawBytes / 1048576).toFixed(1)} MiB raw`,
  );
}

function render(o: Options, results: Results, notes: readonly string[]) {
  const memory = summarizeMemory(results);
  const failures = [
    ...results.memory.flatMap((c) => c.rounds),
    ...results.warm.flatMap((c) => c.rounds),
    ...results.pass,
    ...(results.cold === undefined ? [] : [...results.cold.baseline, ...results.cold.current]),
  ].filter((r) => !r.ok).length;
  const unattributed = results.memory.flatMap((c) =>
    c.rounds.flatMap((r) => (r.ok ? r.value.unattributed : [])),
  );
  const section = (title: string, lines: readonly string[]) =>
    lines.length > 2 ? [`## ${title}`, "", ...lines, ""] : [];
  const text = [
    `# memserve memory benchmark (issue 10), ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC`,
    "",
    ...describeMachine().filter((line) => !line.startsWith("- server pinned")),
    `- memserve: ${checkoutOf(o.memserveDir)}; started as \`taskset -c <cpus> node bin/memserve.js <dir> --port <p> --host 127.0.0.1 --shutdown-timeout 2 …\` (node ${spawnSync("node", ["--version"], { encoding: "utf8" }).stdout?.trim()})`,
    `- ${o.rounds} round(s)${o.smoke ? ", smoke (tiny trees, short runs: the numbers are noise)" : ""}; medians shown`,
    "- cost: RssAnon of every process of the tree (shim, server, workers, any child) + allocated blocks (st_blocks) of the /dev/shm entries created since the start that the tree maps or holds open, + deleted /dev/shm files it still maps; measured after `memserve_snapshot_below_maximum_files` is 0 and a rest, minus the same for the 3-file site in the same round",
    "- served: `memserve_snapshot_bytes{encoding}` summed; target: 1.15 × served + 8 MiB + 2 KiB × files",
    "",
    ...section("Targets", targetsTable(results, memory)),
    ...section("Memory after the maximum pass (`--no-cache-dir`, both cores)", memoryTable(memory)),
    ...section(
      "Load: 7 MB file, 256 connections, wrk 10 s on CPU 1 (cost sampled every 100 ms)",
      loadTable(memory),
    ),
    ...section(
      "Serving during the background pass (real tree, `--no-cache-dir --workers 1`, tree on CPU 0, wrk -t1 -c64 on CPU 1, 3 s windows)",
      results.pass.length > 0 ? passTable(results.pass) : [],
    ),
    ...section(
      "Warm start (cache dir filled by a run to maximum, `--workers 1`, no admin port): spawn to the first 200",
      warmTable(summarizeWarm(results), results.tinySite),
    ),
    ...section(
      "Cold start (`--no-cache-dir`): spawn to the first 200, from the memory runs",
      coldTable(memory, results.pass),
    ),
    ...section(
      "Cold start against the baseline (real tree, `--no-cache-dir --workers 1`, both cores, no admin port): spawn to the first 200, alternating",
      results.cold === undefined ? [] : coldCompareTable(results.cold),
    ),
    "## Notes",
    "",
    ...notes,
    ...(unattributed.length > 0
      ? [
          `- ${new Set(unattributed).size} new /dev/shm entries were not referenced by the measured tree and not counted (other processes' or leaked), e.g. ${[...new Set(unattributed)].slice(0, 5).join(", ")}`,
        ]
      : []),
    ...memory.flatMap((m) =>
      m.errors.map((e) => `- ${m.site}, --workers ${m.workers}: a round failed: ${e}`),
    ),
    "",
  ].join("\n");
  return { text, failures };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers`);
    void stopAll().finally(() => process.exit(130));
  });
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  log((error as Error).message);
  process.exit(1);
}
