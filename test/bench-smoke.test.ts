// The benchmark harness's pieces on a tiny corpus, in about a second, with no timing assertions
// (performance is shown by `npm run bench`, never by a unit test). Needs neither root nor apt:
// the nginx check runs only where nginx and its brotli module are installed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import zlib from "node:zlib";
import { corpusSpecs, ensureCorpus, FIXED_FILES, generateFile } from "../bench/corpus.ts";
import { startFloor } from "../bench/floor.ts";
import { checkScenario, rawGet } from "../bench/gate.ts";
import type { Measurement } from "../bench/measure.ts";
import { parseMetrics, readAnonKib, snapshotGauges } from "../bench/memory-proc.ts";
import { memoryTargetKib } from "../bench/memory-report.ts";
import {
  findBrotliStaticModule,
  renderNginxConf,
  testNginxConf,
  writeNginxPrefix,
} from "../bench/nginx.ts";
import { parseBenchArgs } from "../bench/options.ts";
import { createRng } from "../bench/prng.ts";
import { getClockTicks, processTree, readCpuTicks, readRssKib } from "../bench/proc.ts";
import { formatRatioTable, formatResultsTable, median, summarize } from "../bench/report.ts";
import { SCENARIOS } from "../bench/scenarios.ts";
import { isSteady } from "../bench/servers.ts";
import { writeSidecars } from "../bench/sidecars.ts";
import { parseDurationUs, parseWrkOutput } from "../bench/wrk.ts";

// Real wrk 4.1.0 output against bench/floor.ts on this corpus (small svg, 16 connections, 1 s).
const WRK_SAMPLE = `Running 1s test @ http://127.0.0.1:18500/icons/icon-0001.svg
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   122.96us   92.82us   2.72ms   95.06%
    Req/Sec    79.55k     1.16k   80.92k    80.00%
  Latency Distribution
     50%   93.00us
     75%  142.00us
     90%  188.00us
     99%  264.00us
  78993 requests in 1.00s, 30.13MB read
Requests/sec:  78958.18
Transfer/sec:     30.12MB
`;

// Real output of the 7 MB jpg with a 1 s timeout, 256 connections: socket errors and GB.
const WRK_SAMPLE_ERRORS = `Running 2s test @ http://127.0.0.1:18502/img/big.jpg
  1 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   655.23ms  244.26ms 998.75ms   58.70%
    Req/Sec   153.38     78.85   252.00     75.00%
  Latency Distribution
     50%  737.66ms
     75%  859.07ms
     90%  957.20ms
     99%  996.12ms
  272 requests in 2.23s, 2.19GB read
  Socket errors: connect 0, read 0, write 0, timeout 88
Requests/sec:    121.78
Transfer/sec:      0.98GB
`;

// Real output of the 7 MB jpg at 256 connections: wrk pads one-letter units ("1.10s ").
const WRK_SAMPLE_SECONDS = `Running 1s test @ http://127.0.0.1:18503/img/big.jpg
  1 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   637.52ms  217.07ms   1.11s    64.08%
    Req/Sec   177.00    113.73   312.00     50.00%
  Latency Distribution
     50%  637.03ms
     75%  821.93ms
     90%  882.50ms
     99%    1.10s 
  142 requests in 1.12s, 1.27GB read
Requests/sec:    126.96
Transfer/sec:      1.13GB
`;

// Real output for a path the floor does not have: every response a 404.
const WRK_SAMPLE_404 = `Running 1s test @ http://127.0.0.1:18500/nope
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   247.00us  677.28us   8.06ms   92.47%
    Req/Sec    56.69k    21.99k   74.01k    70.00%
  Latency Distribution
     50%   47.00us
     75%   78.00us
     90%  535.00us
     99%    3.41ms
  56229 requests in 1.00s, 7.02MB read
  Non-2xx or 3xx responses: 56229
Requests/sec:  56143.61
Transfer/sec:      7.01MB
`;

let dir: string;
let root: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
  root = ensureCorpus(join(dir, "corpus"), "smoke").root;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("corpus", () => {
  test("has every file of the profile, the scenario files at their sizes", () => {
    for (const spec of corpusSpecs("smoke")) expect(existsSync(join(root, spec.path))).toBe(true);
    const size = (path: string) => statSync(join(root, path)).size;
    const { tinySvg, css, png, bigJpg } = FIXED_FILES;
    expect(size(tinySvg.path)).toBeGreaterThanOrEqual(tinySvg.bytes);
    expect(size(tinySvg.path)).toBeLessThan(tinySvg.bytes + 100);
    expect(size(css.path)).toBeGreaterThanOrEqual(css.bytes);
    expect(size(css.path)).toBeLessThan(css.bytes + 1024);
    expect(size(png.path)).toBe(png.bytes);
    expect(size(bigJpg.path)).toBe(bigJpg.bytes);
  });

  test("is deterministic, text compresses like real assets, media does not", () => {
    const again = ensureCorpus(join(dir, "corpus"), "smoke");
    expect(again.generated).toBe(false);
    const spec = corpusSpecs("smoke").find((s) => s.path === FIXED_FILES.css.path);
    const css = readFileSync(join(root, FIXED_FILES.css.path));
    if (spec === undefined) throw new Error("no main.css in the profile");
    expect(Buffer.from(generateFile(spec))).toEqual(css);
    const ratio = (bytes: Uint8Array) => zlib.gzipSync(bytes).length / bytes.length;
    expect(ratio(css)).toBeLessThan(0.35);
    expect(ratio(readFileSync(join(root, "js/app.js")))).toBeLessThan(0.4);
    expect(ratio(readFileSync(join(root, FIXED_FILES.png.path)))).toBeGreaterThan(0.99);
    expect(createRng(7).bytes(16)).toEqual(createRng(7).bytes(16));
  });

  test("sidecars decode to their file and are not rewritten when current", async () => {
    const site = join(dir, "sidecars");
    for (const path of [FIXED_FILES.tinySvg.path, FIXED_FILES.css.path, FIXED_FILES.png.path]) {
      mkdirSync(dirname(join(site, path)), { recursive: true });
      await copyFile(join(root, path), join(site, path));
    }
    expect(await writeSidecars(site)).toEqual({ written: 4, fresh: 0, skipped: 0 });
    const css = join(site, FIXED_FILES.css.path);
    expect(zlib.brotliDecompressSync(readFileSync(`${css}.br`))).toEqual(readFileSync(css));
    expect(zlib.gunzipSync(readFileSync(`${css}.gz`))).toEqual(readFileSync(css));
    expect(existsSync(join(site, `${FIXED_FILES.png.path}.br`))).toBe(false);
    expect(await writeSidecars(site)).toEqual({ written: 0, fresh: 4, skipped: 0 });
  });
});

describe("nginx config", () => {
  const module = findBrotliStaticModule();
  const options = (prefix: string) => ({
    root,
    port: 18081,
    prefix,
    brotliModule: module ?? "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so",
    cpu: 0,
  });

  test("renders the directives the benchmark depends on", () => {
    const conf = renderNginxConf(options("/tmp/p"));
    for (const directive of [
      "worker_processes 1;",
      "worker_cpu_affinity 1;",
      "sendfile on;",
      "brotli_static on;",
      "gzip_static on;",
      "open_file_cache max=10000 inactive=60s;",
      "keepalive_requests 100000;",
      "listen 127.0.0.1:18081 reuseport backlog=4096;",
      `root ${root};`,
    ]) {
      expect(conf).toContain(directive);
    }
    expect(renderNginxConf({ ...options("/tmp/p"), cpu: 1 })).toContain("worker_cpu_affinity 10;");
  });

  test.skipIf(Bun.which("nginx") === null || module === undefined)("passes nginx -t", () => {
    const prefix = join(dir, "nginx");
    const result = testNginxConf(prefix, writeNginxPrefix(options(prefix)));
    expect(result.output).toContain("test is successful");
    expect(result.ok).toBe(true);
  });
});

describe("wrk output", () => {
  test("parses a real report", () => {
    const r = parseWrkOutput(WRK_SAMPLE);
    expect(r.requests).toBe(78993);
    expect(r.requestsPerSec).toBeCloseTo(78958.18);
    expect(r.durationSec).toBeCloseTo(1);
    expect(r.latencyAvgUs).toBeCloseTo(122.96);
    expect(r.latencyP50Us).toBeCloseTo(93);
    expect(r.latencyP99Us).toBeCloseTo(264);
    expect(r.bytesRead).toBeCloseTo(30.13 * 1024 ** 2, -3);
    expect(r.socketErrors).toEqual({ connect: 0, read: 0, write: 0, timeout: 0 });
    expect(r.non2xx3xx).toBe(0);
  });

  test("parses errors, milliseconds and gigabytes", () => {
    const r = parseWrkOutput(WRK_SAMPLE_ERRORS);
    expect(r.latencyP99Us).toBeCloseTo(996_120);
    expect(r.bytesRead).toBeCloseTo(2.19 * 1024 ** 3, -6);
    expect(r.socketErrors.timeout).toBe(88);
    expect(parseWrkOutput(WRK_SAMPLE_404).non2xx3xx).toBe(56229);
    expect(parseDurationUs("1.5s")).toBe(1_500_000);
    expect(parseWrkOutput(WRK_SAMPLE_SECONDS).latencyP99Us).toBeCloseTo(1_100_000);
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1 Connection refused")).toThrow();
  });
});

describe("/proc readers", () => {
  test("give sane numbers for this process", () => {
    expect(getClockTicks()).toBeGreaterThan(0);
    const ticks = readCpuTicks(process.pid);
    expect(Number.isInteger(ticks) && ticks >= 0).toBe(true);
    const rss = readRssKib(process.pid);
    expect(rss).toBeGreaterThan(1024);
    expect(rss).toBeLessThan(24 * 1024 * 1024);
    expect(processTree(process.pid)[0]).toBe(process.pid);
    expect(readRssKib(2 ** 30)).toBe(0);
  });
});

describe("floor server and gate", () => {
  test("serves brotli or identity from fixed routes; the gate checks answers", async () => {
    const server = startFloor({ root, port: 0, host: "127.0.0.1" });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const png = await rawGet(url, `/${FIXED_FILES.png.path}`, {});
      expect(png.status).toBe(200);
      expect(png.headers.get("content-encoding")).toBeUndefined();
      expect(png.bodyBytes).toBe(FIXED_FILES.png.bytes);
      const byName = (name: string) => SCENARIOS.find((s) => s.name === name);
      const css = byName("css-150k");
      const revalidate = byName("revalidate-304");
      const identity = byName("identity");
      if (!css || !revalidate || !identity) throw new Error("scenario missing");
      expect(await checkScenario(url, css)).toMatchObject({ ok: true });
      expect(await checkScenario(url, revalidate)).toMatchObject({ ok: true });
      // The floor has no negotiation: brotli to a client that asked for none is a wrong answer.
      expect(await checkScenario(url, identity)).toMatchObject({ ok: false });
    } finally {
      await server.stop(true);
    }
  });
});

describe("report", () => {
  const run = (rps: number, cpu: number): Measurement => ({
    wrk: { ...parseWrkOutput(WRK_SAMPLE), requestsPerSec: rps },
    cpuUsPerRequest: cpu,
    rssIdleKib: 50_000,
    rssPeakKib: 60_000,
    rssAfterKib: 51_000,
  });

  test("medians, tables and ratios", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const memserve = summarize({
      server: "memserve",
      scenario: "tiny-svg",
      answer: "200 br 246 B",
      runs: [run(100, 10), run(120, 8), run(90, 12)],
    });
    const nginx = summarize({ server: "nginx", scenario: "tiny-svg", runs: [run(50, 20)] });
    const floor = summarize({ server: "floor", scenario: "tiny-svg", skipped: "wrong", runs: [] });
    expect(memserve.requestsPerSec).toBe(100);
    const results = formatResultsTable([memserve, nginx, floor]);
    expect(results).toContain("| scenario | server | answer | req/s | CPU us/req | p99 |");
    expect(results).toContain("| tiny-svg | memserve | 200 br 246 B | 100 | 10.00 | 264 us |");
    expect(results).toContain("skipped: wrong");
    const ratios = formatRatioTable([memserve, nginx, floor]);
    expect(ratios).toContain("| tiny-svg | 2.00x | 0.50x | — | — |");
  });

  test("options: smoke defaults, explicit flags win, unknown names fail", () => {
    expect(parseBenchArgs(["--smoke"])).toMatchObject({ durationSec: 1, rounds: 1, warmupSec: 0 });
    expect(parseBenchArgs(["--smoke", "--rounds", "2"])).toMatchObject({ rounds: 2 });
    expect(parseBenchArgs([])).toMatchObject({ durationSec: 10, rounds: 3 });
    expect(() => parseBenchArgs(["--servers", "apache"])).toThrow();
    expect(() => parseBenchArgs(["--scenarios", "nope"])).toThrow();
  });
});

describe("bench: steady state", () => {
  test("at maximum after a pass, at once, or after a warm start's background check", () => {
    expect(isSteady("memserve: maximum compression in 12.00 s more")).toBe(true);
    expect(isSteady("  ready    in 1.56 s\n  maximum  in 1.56 s\n")).toBe(true);
    expect(isSteady("  maximum  compressing in the background\n")).toBe(false);
    const warm = "memserve: warm start from the persisted image\n  maximum  in 0.32 s\n";
    expect(isSteady(warm)).toBe(false);
    expect(isSteady(`${warm}memserve: reload: no changes (0.40 s)`)).toBe(true);
  });
});

describe("bench:memory", () => {
  test("reads the snapshot gauges and the issue's memory limit", () => {
    const metrics = parseMetrics(
      [
        "# HELP memserve_snapshot_bytes Bytes held in the snapshot being served, by encoding",
        'memserve_snapshot_bytes{encoding="br"} 9546',
        'memserve_snapshot_bytes{encoding="identity"} 146771',
        "memserve_snapshot_files 13",
        "memserve_snapshot_below_maximum_files 0",
        'memserve_process_pss_bytes{role="builder",pid="7"} 1024',
      ].join("\n"),
    );
    expect(snapshotGauges(metrics)).toEqual({
      files: 13,
      belowMaximum: 0,
      servedBytes: 156317,
      building: true,
    });
    expect(snapshotGauges(parseMetrics("memserve_snapshot_files 1")).building).toBe(false);
    expect(memoryTargetKib(100 * 1048576, 1000)).toBeCloseTo(115 * 1024 + 8 * 1024 + 2000);
    expect(readAnonKib(process.pid)).toBeGreaterThan(1024);
  });

  // Tiny trees, one round, short runs (about 17 s); the wrk parts run only where wrk is installed.
  test("--smoke runs every part and writes the report", async () => {
    const out = join(dir, "memory-report");
    const proc = Bun.spawn(
      // This checkout as its own baseline: the cold part's comparison runs.
      [
        process.execPath,
        "bench/memory.ts",
        "--smoke",
        "--out",
        out,
        "--step-timeout",
        "20",
        "--baseline-dir",
        ".",
      ],
      { cwd: dirname(import.meta.dir), stdout: "pipe", stderr: "pipe" },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) console.error(stderr.slice(-3000));
    expect(code).toBe(0);
    expect(stdout).toContain("## Memory after the maximum pass");
    expect(stdout).toMatch(/\| real \| 2 \| 23 \|/);
    expect(stdout).toContain("## Warm start");
    expect(stdout).toContain("## Cold start against the baseline");
    expect(stdout).toMatch(/\| cold start, real, first 200 .* \| ≤ \d/);
    if (Bun.which("wrk") !== null) expect(stdout).toContain("## Load: 7 MB file");
  }, 90_000);
});
