// `npm run bench:startup`: how long memserve takes to serve the benchmark corpus and to reach
// maximum compression (cold, with `memserve build`, and on a warm restart), and its peak RSS, next
// to the command-line compressors doing the same work. See bench/README.md.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ensureCorpus, FIXED_FILES } from "./corpus.ts";
import { rawGet } from "./gate.ts";
import { describeMachine } from "./machine.ts";
import { positive } from "./options.ts";
import { reportPath } from "./report.ts";
import { freePort } from "./servers.ts";
import { watchProcess } from "./startup-proc.ts";
import {
  compressibleFiles,
  installTools,
  missingTools,
  referenceJobs,
  runReference,
  toolVersions,
} from "./startup-reference.ts";
import {
  type BuildRun,
  correctnessLines,
  formatStartupTable,
  type Outcome,
  type RoundResult,
  type ServeRun,
  snapshotBytesOf,
  startupRows,
} from "./startup-report.ts";

const BENCH_DIR = import.meta.dir;
const REPO = dirname(BENCH_DIR);
const log = (line: string) => console.error(`bench:startup: ${line}`);

const USAGE = `usage: bun bench/startup.ts [options]

Measures memserve's startup on the benchmark corpus (without sidecars): cold (--no-cache-dir),
\`memserve build\` into an empty store, and a warm restart from that store; next to brotli -q 11,
zstd -19 and gzip -9 run two at a time. Writes bench/results/<date>-startup.md.

  --rounds <n>          rounds; the report shows medians (default 3)
  --step-timeout <s>    longest any one step may take (default 600; 60 with --smoke)
  --smoke               tiny corpus, 1 round; report goes to a temp dir; no apt-get (the
                        reference is skipped when brotli or zstd is missing)
  -h, --help`;

interface Options {
  readonly smoke: boolean;
  readonly rounds: number;
  readonly stepTimeoutMs: number;
}

function parseOptions(argv: readonly string[]): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: "string" },
      "step-timeout": { type: "string" },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const smoke = values.smoke;
  return {
    smoke,
    rounds: Math.round(positive(values.rounds, smoke ? 1 : 3, "--rounds")),
    stepTimeoutMs: positive(values["step-timeout"], smoke ? 60 : 600, "--step-timeout") * 1000,
  };
}

/** Files whose br and size are compared between the cold and the warm run. */
const PROBE_PATHS = [
  `/${FIXED_FILES.css.path}`,
  "/js/app.js",
  "/index.html",
  `/${FIXED_FILES.tinySvg.path}`,
];
const CODINGS = ["br", "zstd", "gzip"] as const;
const SIDECAR = /^(.+)\.(br|gz|zst)$/;

/** Copies the corpus without its `.br`/`.gz`/`.zst` sidecars, so memserve compresses everything. */
function copyWithoutSidecars(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    filter: (source) => {
      const primary = SIDECAR.exec(source)?.[1];
      return primary === undefined || !existsSync(primary);
    },
  });
}

async function settle<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: (error as Error).message.split("\n")[0] ?? "error" };
  }
}

const stamp = (lines: readonly { ms: number; text: string }[]) =>
  lines.map((l) => `[${(l.ms / 1000).toFixed(2).padStart(7)} s] ${l.text}`);

/** One request per coding to a compressible file, each must come back 200 in that coding. */
async function checkEncodings(url: string): Promise<string[]> {
  const problems: string[] = [];
  for (const coding of CODINGS) {
    try {
      const answer = await rawGet(url, PROBE_PATHS[0] ?? "/", { "Accept-Encoding": coding });
      const got = answer.headers.get("content-encoding") ?? "identity";
      if (answer.status !== 200 || got !== coding)
        problems.push(`Accept-Encoding: ${coding} got ${answer.status} ${got}`);
    } catch (error) {
      problems.push(`Accept-Encoding: ${coding}: ${(error as Error).message}`);
    }
  }
  return problems;
}

async function brAnswers(url: string): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  for (const path of PROBE_PATHS) {
    const a = await rawGet(url, path, { "Accept-Encoding": "br" });
    answers.set(
      path,
      `${a.status} ${a.headers.get("content-encoding") ?? "identity"} ${a.bodyBytes} B`,
    );
  }
  return answers;
}

/** memserve serving `site`: cold with `--no-cache-dir`, warm with `--cache-dir store`. */
async function serveRun(
  site: string,
  store: string | undefined,
  timeoutMs: number,
): Promise<ServeRun> {
  const deadline = performance.now() + timeoutMs;
  const port = await freePort();
  const cache = store === undefined ? ["--no-cache-dir"] : ["--cache-dir", store];
  const argv = [
    process.execPath,
    "src/cli/run.ts",
    site,
    "--port",
    String(port),
    "--workers",
    "1",
    ...cache,
  ];
  const proc = watchProcess(argv, REPO, /maximum compression failed/);
  try {
    const ready = await proc.waitForLine("http://", deadline);
    const url = /http:\/\/\S+/.exec(ready.text)?.[0] ?? `http://127.0.0.1:${port}`;
    const encodingProblems = await checkEncodings(url);
    const max = await proc.waitForLine("maximum compression", deadline);
    const answers = await brAnswers(url);
    const lines = proc.lines.map((l) => l.text);
    return {
      readyMs: ready.ms,
      maxMs: max.ms,
      maxLine: max.text.trim(),
      peakRssKib: proc.peakRssKib(),
      snapshotBytes: snapshotBytesOf(lines),
      encodingProblems,
      brAnswers: answers,
      stdout: stamp(proc.lines),
    };
  } finally {
    await proc.stop();
  }
}

/** `memserve build site --cache-dir store`: spawn to exit. */
async function buildRun(site: string, store: string, timeoutMs: number): Promise<BuildRun> {
  const deadline = performance.now() + timeoutMs;
  const argv = [process.execPath, "src/cli/run.ts", "build", site, "--cache-dir", store];
  const proc = watchProcess(argv, REPO);
  try {
    const exit = await proc.waitForExit(deadline);
    if (exit.code !== 0)
      throw new Error(`exited with ${exit.code}: ${proc.stderr().trim().slice(-500)}`);
    return { ms: exit.ms, peakRssKib: proc.peakRssKib(), stdout: stamp(proc.lines) };
  } finally {
    await proc.stop();
  }
}

const secondsOf = <T>(o: Outcome<T>, get: (v: T) => number) =>
  o.ok ? `${(get(o.value) / 1000).toFixed(2)} s` : `failed (${o.error})`;

async function main(argv: readonly string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o === "help") {
    console.log(USAGE);
    return 0;
  }
  const notes: string[] = [];
  let withReference = true;
  if (o.smoke) {
    const missing = missingTools();
    if (missing.length > 0) {
      withReference = false;
      notes.push(
        `- reference skipped: ${missing.join(", ")} not installed (smoke runs no apt-get)`,
      );
    }
  } else {
    installTools(log);
  }
  const machine = describeMachine().filter(
    (l) => l.startsWith("- nproc") || l.startsWith("- kernel"),
  );
  const profile = o.smoke ? "smoke" : "full";
  const corpus = ensureCorpus(join(BENCH_DIR, ".corpus", profile), profile);
  const workDir = mkdtempSync(join(tmpdir(), "memserve-startup-"));
  const site = join(workDir, "site");
  copyWithoutSidecars(corpus.root, site);
  const files = compressibleFiles(site);
  // brotli writes its outputs here; tmpfs when there is one, so they cost what /dev/null does.
  const scratch = mkdtempSync(
    join(existsSync("/dev/shm") ? "/dev/shm" : workDir, "memserve-startup-ref-"),
  );
  const jobs = referenceJobs(files, scratch);
  const compressibleMiB = files.reduce((sum, f) => sum + f.size, 0) / 1048576;
  log(
    `corpus copied without sidecars to ${site}: ${files.length} compressible files, ${compressibleMiB.toFixed(1)} MiB`,
  );

  const rounds: RoundResult[] = [];
  try {
    for (let round = 1; round <= o.rounds; round++) {
      log(`round ${round} of ${o.rounds}`);
      const reference = withReference
        ? await settle(
            async () => (await runReference(jobs, performance.now() + o.stepTimeoutMs)).ms,
          )
        : undefined;
      if (reference !== undefined) log(`reference: ${secondsOf(reference, (v) => v)}`);
      const cold = await settle(() => serveRun(site, undefined, o.stepTimeoutMs));
      log(
        `cold: ready ${secondsOf(cold, (v) => v.readyMs)}, maximum ${secondsOf(cold, (v) => v.maxMs)}`,
      );
      const store = join(workDir, `store-${round}`);
      const build = await settle(() => buildRun(site, store, o.stepTimeoutMs));
      log(`build: ${secondsOf(build, (v) => v.ms)}`);
      const warm: Outcome<ServeRun> = build.ok
        ? await settle(() => serveRun(site, store, o.stepTimeoutMs))
        : { ok: false, error: "skipped: the build failed" };
      log(
        `warm: ready ${secondsOf(warm, (v) => v.readyMs)}, maximum ${secondsOf(warm, (v) => v.maxMs)}`,
      );
      rmSync(store, { recursive: true, force: true });
      rounds.push({ reference, cold, build, warm });
    }
  } finally {
    rmSync(site, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }

  const table = formatStartupTable(startupRows(rounds));
  const checks = correctnessLines(rounds);
  console.log(table);
  const first = rounds[0];
  const output = (title: string, o: Outcome<{ stdout: readonly string[] }> | undefined) =>
    o?.ok === true ? [`### ${title}`, "", "```", ...o.value.stdout, "```", ""] : [];
  const report = [
    `# memserve startup benchmark, ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC`,
    "",
    ...machine,
    `- Bun ${Bun.version}; ${toolVersions()}`,
    `- ${o.smoke ? "smoke" : "full"} corpus copied without its .br/.gz sidecars: ${corpus.files} files, of which ${files.length} compressible (${compressibleMiB.toFixed(1)} MiB) get brotli, zstd and gzip`,
    `- ${o.rounds} round(s), each: reference, cold (\`--no-cache-dir\`), \`memserve build\` into an empty store, warm restart from it; medians shown, every round in "rounds"`,
    `- reference: ${jobs.length} processes of up to 64 files / 1 MiB each (zstd \`-T1\` and gzip to /dev/null, brotli to tmpfs), 2 at a time, largest first`,
    "- times from spawn to the stdout line (ready: `http://`; maximum: `maximum compression`) or to the exit; no CPU pinning (memserve and the reference both use both cores)",
    "- peak RSS: highest VmRSS/VmHWM sampled every 50 ms until SIGTERM; snapshot: memserve's startup line `memory … held in the snapshot`",
    "",
    table,
    "",
    "## Checks",
    "",
    ...checks.lines,
    ...notes,
    "",
    "## memserve output (round 1)",
    "",
    ...output("cold", first?.cold),
    ...output("build", first?.build),
    ...output("warm restart", first?.warm),
  ].join("\n");
  const outDir = o.smoke ? workDir : join(BENCH_DIR, "results");
  mkdirSync(outDir, { recursive: true });
  const path = reportPath(outDir, "-startup");
  writeFileSync(path, report);
  log(`wrote ${path}`);
  if (!checks.ok) log("some step failed or answered wrongly; see Checks in the report");
  return checks.ok ? 0 : 1;
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  log((error as Error).message);
  process.exit(1);
}
