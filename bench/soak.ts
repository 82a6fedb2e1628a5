// `bun bench/soak.ts [--minutes 10]`: does memserve's memory stay flat under long load? Alternates
// ~20 s phases of small files (64 keep-alive connections) and a 7 MiB file (16 connections),
// samples the server's VmRSS every second and writes bench/results/<date>-soak.md. Not part of CI.
// Also exports the temp site and the CLI launcher that scripts/slow-clients.ts uses.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { generateCss, generateHtml, generateSvg } from "./corpus-text.ts";
import { ensurePackages } from "./install.ts";
import { describeMachine, LOAD_CPU, pinSelfToLoadCpu, SERVER_CPU } from "./machine.ts";
import { positive } from "./options.ts";
import { createRng } from "./prng.ts";
import { processTree, readRssKib } from "./proc.ts";
import { median, reportPath } from "./report.ts";
import { BROWSER_ACCEPT_ENCODING } from "./scenarios.ts";
import { parseWrkOutput, wrkCommand } from "./wrk.ts";

const REPO = dirname(import.meta.dir);
const MIB = 1024;
export const BIG_FILE = "/big.bin";

/**
 * Writes index.html, `smallFiles` svg/css files of 1-20 KiB and a 7 MiB incompressible file
 * (seeded, so every run serves the same bytes); returns the small files' URL paths.
 */
export function makeSite(root: string, smallFiles: number): string[] {
  const rng = createRng(20_261_127);
  mkdirSync(join(root, "assets"), { recursive: true });
  writeFileSync(join(root, "index.html"), generateHtml(rng, "memserve", 6 * 1024));
  const paths: string[] = [];
  for (let i = 0; i < smallFiles; i++) {
    const size = rng.int(1024, 20 * 1024);
    const svg = i % 2 === 0;
    const path = `/assets/f${String(i).padStart(3, "0")}.${svg ? "svg" : "css"}`;
    writeFileSync(join(root, path), svg ? generateSvg(rng, size) : generateCss(rng, size));
    paths.push(path);
  }
  writeFileSync(join(root, BIG_FILE), rng.bytes(7 * 1024 * 1024));
  return paths;
}

export interface Memserve {
  readonly url: string;
  /** The bun process that serves (the CLI is a node shim that spawns it). */
  readonly pid: number;
  output(): string;
  /** SIGTERM through the shim; SIGKILL to both after 5 s. */
  stop(): Promise<void>;
}

/** Extra flags the CLI accepts on this version: `--workers 1` only if its help lists it. */
function workersFlag(): string[] {
  const help = spawnSync(process.execPath, ["src/cli/run.ts", "--help"], {
    cwd: REPO,
    encoding: "utf8",
  });
  return /--workers[ =]<\w+>/.test(help.stdout ?? "") ? ["--workers", "1"] : [];
}

const killQuietly = (pid: number) => {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
};

/**
 * Starts `node bin/memserve.js <root>` on a free port (the kernel's pick: no race with another
 * process) with no cache dir, optionally pinned to `cpu`, and waits for its URL line.
 */
export async function startMemserve(root: string, cpu?: number): Promise<Memserve> {
  const pin = cpu === undefined ? [] : ["taskset", "-c", String(cpu)];
  const argv = [...pin, "node", "bin/memserve.js", root, "--port", "0", "--host", "127.0.0.1"];
  // A short drain on stop: cleanup must not wait out the default 10 s for a slow reader.
  argv.push("--no-cache-dir", "--shutdown-timeout", "2", ...workersFlag());
  const shim = Bun.spawn(argv, { cwd: REPO, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let text = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    // Read for the server's whole life: a full pipe would block it on its next write.
    for await (const chunk of stream) {
      if (text.length < 65_536) text += decoder.decode(chunk, { stream: true });
    }
  };
  const drained = Promise.all([drain(shim.stdout), drain(shim.stderr)]);
  const pids = () => processTree(shim.pid);
  const stop = async () => {
    const tree = pids();
    shim.kill("SIGTERM");
    const exited = await Promise.race([shim.exited.then(() => true), Bun.sleep(5000)]);
    if (exited !== true) for (const pid of tree.reverse()) killQuietly(pid);
    await shim.exited;
    await drained;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(text)?.[0];
    const pid = pids()[1];
    if (url !== undefined && pid !== undefined) return { url, pid, output: () => text, stop };
    if (shim.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`memserve did not start:\n${text}`);
    }
    await Bun.sleep(50);
  }
}

/** Waits (at most `ms`) for the background pass to reach maximum compression, so it is not load. */
export async function waitForMaximum(server: Memserve, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!/maximum (compression )?in /.test(server.output())) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(100);
  }
  return true;
}

// --- the soak itself ---

const log = (line: string) => console.error(`soak: ${line}`);

interface Phase {
  readonly kind: "small" | "large";
  readonly startSec: number;
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly rssEndKib: number;
}

interface Sample {
  readonly sec: number;
  readonly kib: number;
}

/** A load generator: `connections` keep-alive connections cycling through `paths` for `seconds`. */
interface Load {
  readonly label: string;
  run(
    base: string,
    paths: readonly string[],
    connections: number,
    seconds: number,
    work: string,
  ): Promise<{ requests: number; errors: number }>;
}

/** wrk on the load CPU; a Lua script cycles through the paths (wrk alone hits a single URL). */
const wrkLoad: Load = {
  label: "wrk -t1",
  async run(base, paths, connections, seconds, work) {
    const headers = { "Accept-Encoding": BROWSER_ACCEPT_ENCODING };
    const argv = wrkCommand({
      url: `${base}/`,
      connections,
      durationSec: seconds,
      headers,
      cpu: LOAD_CPU,
    });
    const script = join(work, "paths.lua");
    const list = paths.map((p) => `"${p}"`).join(",");
    const lua = `local p = {${list}}\nlocal i = 0\nrequest = function()\n  i = i % #p + 1\n  return wrk.format("GET", p[i])\nend\n`;
    writeFileSync(script, lua);
    argv.splice(argv.length - 1, 0, "-s", script);
    const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
    const guard = setTimeout(() => proc.kill("SIGKILL"), (seconds + 30) * 1000);
    const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    clearTimeout(guard);
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${text}`);
    const r = parseWrkOutput(text);
    const e = r.socketErrors;
    return { requests: r.requests, errors: e.connect + e.read + e.write + e.timeout + r.non2xx3xx };
  },
};

/** Without wrk: one fetch loop per connection (Bun keeps and reuses the connections). */
const bunLoad: Load = {
  label: "Bun fetch loops",
  async run(base, paths, connections, seconds) {
    const end = Date.now() + seconds * 1000;
    let requests = 0;
    let errors = 0;
    const headers = { "accept-encoding": BROWSER_ACCEPT_ENCODING };
    const loop = async (offset: number) => {
      for (let i = offset; Date.now() < end; i++) {
        try {
          const url = `${base}${paths[i % paths.length]}`;
          const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          if (res.ok) requests++;
          else errors++;
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
    return { requests, errors };
  },
};

const mib = (kib: number) => (kib / MIB).toFixed(1);
const BLOCKS = "▁▂▃▄▅▆▇█";

/** One character per 10 s (their median), scaled between the lowest and highest. */
function sparkline(samples: readonly Sample[]): string {
  const values: number[] = [];
  for (let end = 10; end - 10 < (samples.at(-1)?.sec ?? 0); end += 10) {
    values.push(levelAt(samples, end, 10));
  }
  const lo = Math.min(...values);
  const span = Math.max(...values) - lo || 1;
  return values.map((v) => BLOCKS[Math.round(((v - lo) / span) * 7)]).join("");
}

/** The median of the samples in the `window` seconds up to `sec`. */
function levelAt(samples: readonly Sample[], sec: number, window: number): number {
  return median(samples.filter((s) => s.sec > sec - window && s.sec <= sec).map((s) => s.kib));
}

interface SoakRun {
  readonly phases: readonly Phase[];
  readonly samples: readonly Sample[];
  readonly idleKib: number;
  readonly phaseSec: number;
  readonly tool: string;
}

/**
 * The markdown report. The gate compares the level at the end with the level at 60 s (half-way in
 * runs shorter than 2 minutes): memory that is still growing by then is a leak, not warm-up. A
 * level is the median over one small and one large phase, since the two kinds of load hold
 * different amounts (about 10 MiB apart): comparing a small phase with a large one would not do.
 */
function render({ phases, samples, idleKib, phaseSec, tool }: SoakRun) {
  const endSec = samples.at(-1)?.sec ?? 0;
  const refSec = Math.min(60, Math.floor(endSec / 2));
  const ref = levelAt(samples, refSec, 2 * phaseSec);
  const end = levelAt(samples, endSec, 2 * phaseSec);
  const grew = end - ref;
  const pass = grew <= 8 * MIB;
  const perMinute = Array.from({ length: Math.ceil(endSec / 60) }, (_, m) => {
    const kib = samples.filter((s) => s.sec > m * 60 && s.sec <= (m + 1) * 60).map((s) => s.kib);
    return `| ${m + 1} | ${mib(Math.min(...kib))} | ${mib(median(kib))} | ${mib(Math.max(...kib))} |`;
  });
  const phaseRows = phases.map(
    (p, i) =>
      `| ${i + 1} | ${p.kind} | ${p.startSec} | ${p.seconds} | ${p.requests} | ${p.errors} | ${Math.round(p.requests / p.seconds)} | ${mib(p.rssEndKib)} |`,
  );
  const sign = grew >= 0 ? "+" : "";
  const verdict = `${pass ? "PASS" : "FAIL"}: RSS at the end (${endSec} s) ${mib(end)} MiB vs ${mib(ref)} MiB at ${refSec} s: ${sign}${mib(grew)} MiB (limit +8 MiB)`;
  const markdown = [
    `# memserve soak, ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC`,
    "",
    ...describeMachine(),
    `- ${(endSec / 60).toFixed(1)} min; phases alternate small files (64 connections, 200 svg/css` +
      ` of 1-20 KiB, browser Accept-Encoding) and ${BIG_FILE} (7 MiB, 16 connections); load: ${tool}`,
    `- RSS: VmRSS of the bun server every second; a level is the median of the ${2 * phaseSec} s up to it;` +
      ` idle before the load ${mib(idleKib)} MiB.`,
    "",
    `**${verdict}**`,
    "",
    `RSS, one character per 10 s (their median; all samples ${mib(Math.min(...samples.map((s) => s.kib)))}–${mib(Math.max(...samples.map((s) => s.kib)))} MiB):`,
    "",
    "```",
    sparkline(samples),
    "```",
    "",
    "| minute | min MiB | median MiB | max MiB |",
    "| -----: | ------: | ---------: | ------: |",
    ...perMinute,
    "",
    "| phase | files | start s | s | requests | errors | req/s | RSS at end MiB |",
    "| ----: | ----- | ------: | -: | -------: | -----: | ----: | -------------: |",
    ...phaseRows,
    "",
  ].join("\n");
  return { markdown, verdict, pass };
}

const USAGE = `usage: bun bench/soak.ts [--minutes 10] [--phase-seconds 20] [--out bench/results]`;

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: "string" },
      "phase-seconds": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const totalSec = Math.round(positive(values.minutes, 10, "--minutes") * 60);
  const phaseSec = Math.round(positive(values["phase-seconds"], 20, "--phase-seconds"));
  let load: Load = wrkLoad;
  try {
    ensurePackages(false, log);
  } catch (error) {
    load = bunLoad;
    log(`${(error as Error).message}; using Bun fetch loops instead of wrk`);
  }
  pinSelfToLoadCpu(); // the server gets CPU 0 to itself (the report says so)
  const work = mkdtempSync(join(tmpdir(), "memserve-soak-"));
  let server: Memserve | undefined;
  try {
    const paths = makeSite(join(work, "site"), 200);
    server = await startMemserve(join(work, "site"), SERVER_CPU);
    await waitForMaximum(server, 30_000);
    const idleKib = readRssKib(server.pid);
    log(`memserve ${server.url} (bun pid ${server.pid}), ${mib(idleKib)} MiB idle`);
    const run = await soak(server, paths, totalSec, phaseSec, load, work);
    const report = render({ ...run, idleKib, phaseSec, tool: load.label });
    const dir = values.out ?? join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    const path = reportPath(dir, "-soak");
    writeFileSync(path, report.markdown);
    console.log(report.markdown);
    log(`wrote ${path}`);
    console.log(`soak: ${report.verdict}`);
    return report.pass ? 0 : 1;
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Back-to-back phases for `totalSec`, alternating small and large, sampling RSS every second. */
async function soak(
  server: Memserve,
  paths: readonly string[],
  totalSec: number,
  phaseSec: number,
  load: Load,
  work: string,
): Promise<{ phases: Phase[]; samples: Sample[] }> {
  const started = performance.now();
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const sec = Math.round((performance.now() - started) / 1000);
    samples.push({ sec, kib: readRssKib(server.pid) });
  }, 1000);
  const phases: Phase[] = [];
  try {
    for (let startSec = 0; startSec < totalSec; startSec += phaseSec) {
      const kind = phases.length % 2 === 0 ? "small" : "large";
      const seconds = Math.min(phaseSec, totalSec - startSec);
      const targets = kind === "small" ? paths : [BIG_FILE];
      const connections = kind === "small" ? 64 : 16;
      const result = await load.run(server.url, targets, connections, seconds, work);
      phases.push({ kind, startSec, seconds, ...result, rssEndKib: readRssKib(server.pid) });
      log(`phase ${phases.length} ${kind}: ${result.requests} requests, ${result.errors} errors`);
    }
  } finally {
    clearInterval(sampler);
  }
  return { phases, samples };
}

if (import.meta.main) {
  try {
    process.exit(await main(process.argv.slice(2)));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}`);
    process.exit(1);
  }
}
