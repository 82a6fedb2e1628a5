// `npm run bench`: memserve, nginx and the Bun floor side by side on the same corpus and cores.
// Each round starts every server in turn, alone, and runs every scenario against it; rounds are
// the outer loop so a slow minute on a shared machine hits all servers alike.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { makeCertificate } from "./certificate.ts";
import { ensureCorpus } from "./corpus.ts";
import { checkScenario } from "./gate.ts";
import { ensurePackages } from "./install.ts";
import { describeMachine, LOAD_CPU, pinSelfToLoadCpu, SERVER_CPU } from "./machine.ts";
import { measure } from "./measure.ts";
import { type BenchOptions, parseBenchArgs, USAGE } from "./options.ts";
import { processTree } from "./proc.ts";
import {
  type CaseResult,
  type CaseSummary,
  formatPairTable,
  formatRatioTable,
  formatResultsTable,
  formatRulesTable,
  formatSendfileTable,
  median,
  reportPath,
  summarize,
} from "./report.ts";
import { writeRulesSite } from "./rules-corpus.ts";
import { formatRulesCost, measureRulesCost } from "./rules-cost.ts";
import { runsOn, type Scenario } from "./scenarios.ts";
import {
  isSteady,
  type LaunchContext,
  launchServer,
  type RunningServer,
  type ServerName,
} from "./servers.ts";
import { writeSidecars } from "./sidecars.ts";
import { runWrk } from "./wrk.ts";

const BENCH_DIR = import.meta.dir;
const REPO = dirname(BENCH_DIR);
const log = (line: string) => console.error(`bench: ${line}`);

interface MutableCase {
  answer?: string;
  skipped?: string;
  runs: CaseResult["runs"][number][];
}

/** Gate, warm-up and one measured run of one scenario; problems are recorded, never thrown. */
async function runScenario(
  server: RunningServer,
  scenario: Scenario,
  o: BenchOptions,
  c: MutableCase,
) {
  if (c.skipped !== undefined) return;
  try {
    const gate = await checkScenario(server.url, scenario);
    if (!gate.ok) {
      c.skipped = `wrong answer: ${gate.problem}`;
      log(`${server.name} ${scenario.name}: ${c.skipped}`);
      return;
    }
    c.answer = gate.answer;
    const run = {
      url: `${server.url}${scenario.path}`,
      connections: scenario.connections,
      headers: gate.headers,
      cpu: LOAD_CPU,
    };
    if (o.warmupSec > 0) await runWrk({ ...run, durationSec: Math.round(o.warmupSec) });
    const m = await measure(
      server.pid,
      { ...run, durationSec: Math.round(o.durationSec) },
      o.settleMs,
    );
    c.runs.push(m);
    const rps = Math.round(m.wrk.requestsPerSec);
    log(`${server.name} ${scenario.name}: ${rps} req/s, ${m.cpuUsPerRequest.toFixed(2)} us/req`);
  } catch (error) {
    c.skipped = `error: ${(error as Error).message.split("\n")[0]}`;
    log(`${server.name} ${scenario.name}: ${c.skipped}`);
  }
}

interface RunState {
  readonly cases: Map<string, MutableCase>;
  /** Startup lines per server (first round): memserve reports its snapshot's bytes per encoding. */
  readonly startup: Map<ServerName, string>;
  /** Seconds from spawn to serving, per server and round. */
  readonly ready: Map<ServerName, number[]>;
}

async function runServer(name: ServerName, ctx: LaunchContext, o: BenchOptions, state: RunState) {
  const started = performance.now();
  let server: RunningServer;
  try {
    server = await launchServer(name, ctx);
  } catch (error) {
    for (const s of o.scenarios)
      caseOf(state, name, s.name).skipped = `did not start: ${(error as Error).message}`;
    log(`${name} did not start: ${(error as Error).message}`);
    return;
  }
  const readySec = ((performance.now() - started) / 1000).toFixed(1);
  state.ready.set(name, [...(state.ready.get(name) ?? []), Number(readySec)]);
  log(`${name} serving at ${server.url} (ready in ${readySec} s)`);
  // Measure the steady state: memserve's background pass to maximum compression (on the pinned
  // server core) must be over, or it competes with the requests; after a warm start (the image a
  // previous run persisted), the background check of the tree must be.
  if (name.startsWith("memserve")) {
    const deadline = performance.now() + ctx.startupTimeoutMs;
    while (!isSteady(server.output()) && performance.now() < deadline) {
      await Bun.sleep(100);
    }
    log(
      `${name} at maximum compression after ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    // The builder exits once its job is done: its memory must not count as the server's idle RSS.
    while (processTree(server.pid).length > 1 && performance.now() < deadline) {
      await Bun.sleep(50);
    }
  }
  try {
    for (const scenario of o.scenarios.filter((s) => runsOn(s, name)))
      await runScenario(server, scenario, o, caseOf(state, name, scenario.name));
  } finally {
    if (!state.startup.has(name))
      state.startup.set(name, `ready in ${readySec} s\n${server.output().trim()}`);
    await server.stop();
  }
}

function caseOf(state: RunState, server: string, scenario: string): MutableCase {
  const key = `${server}\0${scenario}`;
  let found = state.cases.get(key);
  if (found === undefined) {
    found = { runs: [] };
    state.cases.set(key, found);
  }
  return found;
}

function summaries(state: RunState, o: BenchOptions): CaseSummary[] {
  return o.scenarios.flatMap((scenario) =>
    o.servers
      .filter((server) => runsOn(scenario, server))
      .map((server) => {
        const c = caseOf(state, server, scenario.name);
        return summarize({ server, scenario: scenario.name, ...c });
      }),
  );
}

/** A self-signed certificate in `dir`, for both `-tls` servers alike. */
function certificateIn(dir: string): { cert: string; key: string } {
  const cert = join(dir, "bench.crt");
  const key = join(dir, "bench.key");
  makeCertificate(cert, key, "127.0.0.1");
  return { cert, key };
}

/** Median seconds to serving of memserve with and without the rules, over the rounds. */
function readyLine(state: RunState): string {
  const of = (name: ServerName) => {
    const seconds = median(state.ready.get(name) ?? []);
    return Number.isFinite(seconds) ? `${seconds.toFixed(1)} s` : "—";
  };
  return `Ready in (median of the rounds, spawn to serving): memserve ${of("memserve")}, memserve-rules ${of("memserve-rules")}.`;
}

function renderReport(o: BenchOptions, machine: string[], state: RunState, tables: string): string {
  const startup = [...state.startup].map(
    ([name, text]) => `### ${name}\n\n\`\`\`\n${text}\n\`\`\`\n`,
  );
  return [
    `# memserve benchmark, ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC`,
    "",
    ...machine,
    `- ${o.rounds} round(s) of ${o.durationSec} s per server and scenario (medians shown), warm-up ${o.warmupSec} s;` +
      ` wrk -t1 with keep-alive; ${o.smoke ? "smoke corpus" : "full corpus"} (bench/README.md)`,
    "- CPU us/req: utime+stime of the server's process tree (nginx: master + worker) / requests.",
    "- RSS sums the tree's processes (nginx's shared pages count twice).",
    "- Ratios: req/s above 1x means memserve is faster; CPU/req below 1x means it is cheaper.",
    "",
    tables,
    "",
    "## Startup (first round)",
    "",
    ...startup,
  ].join("\n");
}

/** `bench/results/2026-01-31.md`, or `…-2.md` when a run of the same day is already there. */
async function main(argv: readonly string[]): Promise<number> {
  const o = parseBenchArgs(argv);
  if (o === "help") {
    console.log(USAGE);
    return 0;
  }
  ensurePackages(
    o.servers.some((name) => name.startsWith("nginx")),
    log,
  );
  const machine = describeMachine();
  pinSelfToLoadCpu();
  const profile = o.smoke ? "smoke" : "full";
  const corpus = ensureCorpus(join(BENCH_DIR, ".corpus", profile), profile);
  log(`corpus ${corpus.root}: ${corpus.files} files${corpus.generated ? " (generated)" : ""}`);
  const sidecars = await writeSidecars(corpus.root);
  log(
    `sidecars: ${sidecars.written} written, ${sidecars.fresh} current, ${sidecars.skipped} not worth it`,
  );
  const workDir = mkdtempSync(join(tmpdir(), "memserve-bench-"));
  const rulesRoot = join(BENCH_DIR, ".corpus", profile, "rules-site");
  let rulesCost: string | undefined;
  if (o.servers.includes("memserve-rules")) {
    const linked = writeRulesSite(corpus.root, rulesRoot);
    log(`rules site ${rulesRoot}: ${linked} files linked, rules written`);
    rulesCost = formatRulesCost(measureRulesCost(rulesRoot));
  }
  const tls = o.servers.some((name) => name.endsWith("-tls")) ? certificateIn(workDir) : undefined;
  const ctx = {
    repo: REPO,
    root: corpus.root,
    rulesRoot,
    ...(tls === undefined ? {} : { tls }),
    workDir,
    cpu: SERVER_CPU,
    startupTimeoutMs: o.startupTimeoutMs,
  };
  const state: RunState = { cases: new Map(), startup: new Map(), ready: new Map() };
  for (let round = 1; round <= o.rounds; round++) {
    log(`round ${round} of ${o.rounds}`);
    for (const name of o.servers) await runServer(name, ctx, o, state);
  }
  const list = summaries(state, o);
  const rules = formatRulesTable(list);
  const rulesSection = rules && [rules, readyLine(state), rulesCost].join("\n\n");
  const sendfile = formatSendfileTable(list);
  const nginxSendfile = formatPairTable(list, "nginx", "nginx-copy", "nginx sendfile/copy");
  const overTls = formatPairTable(list, "memserve-tls", "nginx-tls", "memserve/nginx over TLS");
  const tables = [
    formatResultsTable(list),
    formatRatioTable(list),
    sendfile,
    nginxSendfile,
    overTls,
    rulesSection,
  ]
    .filter((t) => t !== undefined)
    .join("\n\n");
  console.log(tables);
  const outDir = o.smoke ? workDir : join(BENCH_DIR, "results");
  mkdirSync(outDir, { recursive: true });
  const path = reportPath(outDir);
  writeFileSync(path, renderReport(o, machine, state, tables));
  log(`wrote ${path}`);
  return 0;
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  // Bad flags, a failed install, a missing tool: one line, not a stack.
  log((error as Error).message);
  process.exit(1);
}
