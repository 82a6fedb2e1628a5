// Command-line flags of `npm run bench` (bun bench/run.ts).
import { parseArgs } from "node:util";
import { SCENARIOS, type Scenario, selectScenarios } from "./scenarios.ts";
import { DEFAULT_SERVERS, SERVER_NAMES, type ServerName } from "./servers.ts";

export const USAGE = `usage: bun bench/run.ts [options]

Benchmarks memserve, nginx and the Bun floor one at a time on CPU 0, with wrk on CPU 1.

  --duration <s>         seconds per measured run (default 10)
  --rounds <n>           runs per server and scenario; the report shows medians (default 3)
  --warmup <s>           unmeasured wrk run before each measured one (default 2)
  --scenarios <a,b>      subset of: ${SCENARIOS.map((s) => s.name).join(", ")}
                         (default: all but media-*)
  --servers <a,b>        subset of: ${SERVER_NAMES.join(", ")}
                         (default: ${DEFAULT_SERVERS.join(", ")})
  --startup-timeout <s>  how long a server may take to start serving (default 600)
  --smoke                tiny corpus, 1 s, 1 round, no warm-up; report goes to a temp dir
  -h, --help`;

export interface BenchOptions {
  readonly smoke: boolean;
  readonly durationSec: number;
  readonly rounds: number;
  readonly warmupSec: number;
  /** Pause after each run before the "RSS after" sample. */
  readonly settleMs: number;
  readonly startupTimeoutMs: number;
  readonly scenarios: readonly Scenario[];
  readonly servers: readonly ServerName[];
}

/** `"2.5"` -> 2.5; absent -> `fallback`; anything else (negative, zero unless allowed) throws. */
export function positive(
  text: string | undefined,
  fallback: number,
  flag: string,
  allowZero = false,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(
      `${flag} needs a ${allowZero ? "non-negative" : "positive"} number, got "${text}"`,
    );
  }
  return value;
}

function serverList(text: string | undefined): ServerName[] {
  if (text === undefined) return [...DEFAULT_SERVERS];
  return text.split(",").map((name) => {
    const found = SERVER_NAMES.find((known) => known === name.trim());
    if (found === undefined)
      throw new Error(`unknown server "${name}"; known: ${SERVER_NAMES.join(", ")}`);
    return found;
  });
}

/** Parses argv; `"help"` when usage was asked for. Explicit flags override `--smoke`'s defaults. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: "string" },
      rounds: { type: "string" },
      warmup: { type: "string" },
      scenarios: { type: "string" },
      servers: { type: "string" },
      "startup-timeout": { type: "string" },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const smoke = values.smoke;
  return {
    smoke,
    durationSec: positive(values.duration, smoke ? 1 : 10, "--duration"),
    rounds: Math.round(positive(values.rounds, smoke ? 1 : 3, "--rounds")),
    warmupSec: positive(values.warmup, smoke ? 0 : 2, "--warmup", true),
    // A second after load, as the brief asks; a smoke run only checks the sampling works.
    settleMs: smoke ? 250 : 1000,
    startupTimeoutMs: positive(values["startup-timeout"], 600, "--startup-timeout") * 1000,
    scenarios: selectScenarios(values.scenarios?.split(",").map((s) => s.trim())),
    servers: serverList(values.servers),
  };
}
