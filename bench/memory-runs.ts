// The measurements of `npm run bench:memory`, one server start each: memory at rest after the
// maximum pass (and under a 7 MB × 256-connection load), tiny-file req/s during the pass against
// after it, and time to the first 200 on a warm cache dir.
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { dirname, join } from "node:path";
import { LOAD_CPU, SERVER_CPU } from "./machine.ts";
import { BIG_FILE, type MemorySite, TINY_FILE } from "./memory-corpus.ts";
import {
  type Cost,
  measureCost,
  readGauges,
  type SnapshotGauges,
  shmEntries,
  totalKib,
} from "./memory-proc.ts";
import { type Served, type ServeSpec, serve } from "./memory-server.ts";
import { BROWSER_ACCEPT_ENCODING } from "./scenarios.ts";
import { launchServer } from "./servers.ts";
import { writeSidecars } from "./sidecars.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

export interface RunContext {
  readonly memserveDir: string;
  /** taskset list of every CPU: unpinned runs must not inherit the harness's own pinning. */
  readonly allCpus: string;
  readonly restMs: number;
  readonly loadSec: number;
  readonly windowSec: number;
  /** Most wrk windows measured during the pass. */
  readonly passWindows: number;
  readonly steadySec: number;
  readonly stepTimeoutMs: number;
  readonly wrk: boolean;
  readonly nginx: boolean;
  readonly workDir: string;
  readonly log: (line: string) => void;
}

const headers = { "Accept-Encoding": BROWSER_ACCEPT_ENCODING };

async function withServer<T>(
  ctx: RunContext,
  spec: ServeSpec,
  use: (s: Served, deadline: number) => Promise<T>,
): Promise<T> {
  const deadline = performance.now() + ctx.stepTimeoutMs;
  const server = await serve(ctx.memserveDir, spec, deadline);
  try {
    return await use(server, deadline);
  } finally {
    await server.stop();
  }
}

export interface LoadResult {
  readonly idleKib: number;
  readonly peakKib: number;
  readonly wrk: WrkResult;
}

export interface MemoryRun {
  readonly coldMs: number;
  readonly maxMs: number;
  readonly cost: Cost;
  readonly gauges: SnapshotGauges;
  readonly unattributed: readonly string[];
  readonly load?: LoadResult;
}

/** The 7 MB file at 256 connections; the tree's cost sampled every 100 ms. */
async function loadRun(ctx: RunContext, s: Served, before: Set<string>, idleKib: number) {
  let peakKib = idleKib;
  const sample = () => {
    peakKib = Math.max(peakKib, totalKib(measureCost(s.pid, before)));
  };
  const sampler = setInterval(sample, 100);
  try {
    const run = { url: `${s.url}${BIG_FILE}`, connections: 256, durationSec: ctx.loadSec };
    const { result } = await runWrk({ ...run, headers, cpu: LOAD_CPU });
    sample();
    return { idleKib, peakKib, wrk: result };
  } finally {
    clearInterval(sampler);
  }
}

/** Cold start (`--no-cache-dir`), maximum pass, rest, cost; then the load when asked. */
export function memoryRun(
  ctx: RunContext,
  site: MemorySite,
  workers: number,
  withLoad: boolean,
): Promise<MemoryRun> {
  const before = shmEntries();
  const spec = { site, workers, cpus: ctx.allCpus, admin: true };
  return withServer(ctx, spec, async (s, deadline) => {
    const max = await s.waitForMaximum(deadline);
    await Bun.sleep(ctx.restMs);
    const cost = measureCost(s.pid, before);
    const gauges = (s.adminPort && (await readGauges(s.adminPort))) || max.gauges;
    const result = {
      coldMs: s.firstOkMs,
      maxMs: max.ms,
      cost,
      gauges,
      unattributed: cost.unattributed,
    };
    if (!withLoad || !ctx.wrk) return result;
    return { ...result, load: await loadRun(ctx, s, before, totalKib(cost)) };
  });
}

export interface PassWindow {
  readonly requests: number;
  readonly sec: number;
}

export interface PassRun {
  readonly coldMs: number;
  /** Spawn to the end of the maximum pass: its stdout line, else when the gauges first showed it. */
  readonly maxMs: number;
  /** wrk windows that began and ended while files were still below maximum. */
  readonly during: readonly PassWindow[];
  /** The window cap was reached first: the pass ended after the load stopped. */
  readonly endedAfterLoad: boolean;
  readonly duringRps: number;
  readonly steadyRps: number;
  readonly nginxRps: number | undefined;
}

const tinyRun = (url: string, durationSec: number) =>
  runWrk({ url: `${url}${TINY_FILE}`, connections: 64, durationSec, headers, cpu: LOAD_CPU });

const belowMaximum = async (s: Served) => {
  const g = s.adminPort === undefined ? undefined : await readGauges(s.adminPort);
  return g === undefined || g.files === 0 || g.belowMaximum > 0;
};

/**
 * Cold start with the default `--compression both`, the whole tree on the server CPU: back-to-back
 * wrk windows on the tiny file while the maximum pass runs, then the steady state after it. At most
 * `passWindows` windows: a builder at idle priority may make no progress while the load saturates
 * its core, so the pass is then left to finish without load.
 */
export async function passRun(ctx: RunContext, site: MemorySite): Promise<PassRun> {
  const spec = { site, workers: 1, cpus: String(SERVER_CPU), admin: true };
  const run = await withServer(ctx, spec, async (s, deadline) => {
    const during: PassWindow[] = [];
    let maxMs = Number.NaN;
    while (during.length < ctx.passWindows && (await belowMaximum(s))) {
      if (performance.now() > deadline) throw new Error("maximum pass did not end in time");
      const { result } = await tinyRun(s.url, ctx.windowSec);
      if (await belowMaximum(s))
        during.push({ requests: result.requests, sec: result.durationSec });
      else maxMs = performance.now() - s.spawnedAt;
    }
    const endedAfterLoad = await belowMaximum(s);
    if (endedAfterLoad) maxMs = (await s.waitForMaximum(deadline)).ms;
    const line = s.proc.lines.find((l) => /maximum compression in/.test(l.text));
    if (line !== undefined) maxMs = line.ms;
    await Bun.sleep(ctx.restMs);
    const steady = (await tinyRun(s.url, ctx.steadySec)).result;
    const sec = during.reduce((sum, w) => sum + w.sec, 0);
    const duringRps = sec > 0 ? during.reduce((sum, w) => sum + w.requests, 0) / sec : Number.NaN;
    const steadyRps = steady.requestsPerSec;
    return { coldMs: s.firstOkMs, maxMs, during, endedAfterLoad, duringRps, steadyRps };
  });
  return { ...run, nginxRps: ctx.nginx ? await nginxRun(ctx, site) : undefined };
}

/** nginx (bench/nginx.ts's conf) on the same tiny file with its .br/.gz sidecars, same cores. */
async function nginxRun(ctx: RunContext, site: MemorySite): Promise<number> {
  const root = mkdtempSync(join(ctx.workDir, "nginx-site-"));
  mkdirSync(dirname(join(root, TINY_FILE)), { recursive: true });
  copyFileSync(join(site.root, TINY_FILE), join(root, TINY_FILE));
  await writeSidecars(root);
  const server = await launchServer("nginx", {
    repo: ctx.workDir,
    root,
    workDir: ctx.workDir,
    cpu: SERVER_CPU,
    startupTimeoutMs: 30_000,
  });
  try {
    await tinyRun(server.url, ctx.windowSec); // open_file_cache warm-up, unmeasured
    return (await tinyRun(server.url, ctx.steadySec)).result.requestsPerSec;
  } finally {
    await server.stop();
  }
}

/** Runs the site to maximum with `cacheDir`, then stops: the cache dir is then filled. */
export function fillCache(ctx: RunContext, site: MemorySite, cacheDir: string): Promise<number> {
  const spec = { site, workers: 1, cpus: ctx.allCpus, admin: true, cacheDir };
  return withServer(ctx, spec, async (s, deadline) => (await s.waitForMaximum(deadline)).ms);
}

/** Spawn to the first 200 with a filled cache dir (no admin port, as a user would start it). */
export function warmRun(ctx: RunContext, site: MemorySite, cacheDir: string): Promise<number> {
  const spec = { site, workers: 1, cpus: ctx.allCpus, admin: false, cacheDir };
  return withServer(ctx, spec, async (s) => s.firstOkMs);
}

/** Spawn to the first 200 of `memserveDir`'s memserve with `--no-cache-dir` (no admin port). */
export function coldRun(ctx: RunContext, site: MemorySite, memserveDir: string): Promise<number> {
  const spec = { site, workers: 1, cpus: ctx.allCpus, admin: false };
  return withServer({ ...ctx, memserveDir }, spec, async (s) => s.firstOkMs);
}
