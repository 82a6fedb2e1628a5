import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childrenOf } from "./processes.ts";

export const BIN = join(import.meta.dir, "..", "..", "bin", "memserve.js");

/**
 * What runs `memserve`: the npm bin under node, or with MEMSERVE_TEST_BIN set, that executable (the
 * single binary of `npm run build:bin`: `npm run test:bin` runs the CLI suites against it).
 */
export const MEMSERVE: readonly string[] =
  process.env.MEMSERVE_TEST_BIN === undefined ? ["node", BIN] : [process.env.MEMSERVE_TEST_BIN];

/**
 * The CLI's default cache dir lives under XDG_CACHE_HOME: point it at a scratch dir, never ~/.cache.
 * One process per server unless a test asks for workers (`--workers` on the command line wins).
 */
const ENV = {
  ...process.env,
  XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "memserve-cache-")),
  MEMSERVE_WORKERS: "1",
};

export interface CliRun {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

export interface StartOptions {
  /** What runs the CLI, before `args` (default `node bin/memserve.js`), e.g. `npm exec memserve`. */
  readonly command?: readonly string[];
  /** Its own process group (pgid = `child.pid`), so a test can signal the whole group. */
  readonly detached?: boolean;
  /** Set in (or, when undefined, removed from) the environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Starts `memserve <args>` through the real bin and waits for the line with its URL. */
export function startCli(
  args: readonly string[],
  timeoutMs = 20_000,
  options: StartOptions = {},
): Promise<CliRun> {
  const [command = "node", ...prefix] = options.command ?? MEMSERVE;
  const child = spawn(command, [...prefix, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: withEnv(options.env ?? {}),
    detached: options.detached ?? false,
  });
  let out = "";
  let err = "";
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no URL line within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`));
    }, timeoutMs);
    child.stderr?.on("data", (chunk) => {
      err += chunk;
    });
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const match = /https?:\/\/[^\s]+:\d+/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[0], stdout: () => out, stderr: () => err, exited });
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before serving; stdout: ${out}; stderr: ${err}`));
    });
  });
}

function withEnv(changes: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ENV };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs `memserve <args>` to completion. */
export function runCli(
  args: readonly string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [command = "node", ...prefix] = MEMSERVE;
    const child = spawn(command, [...prefix, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: ENV,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The memserve server process of a run: the child of the node shim, or with MEMSERVE_TEST_BIN the
 * executable itself. Its children are the workers and the builder.
 */
export function serverPid(run: CliRun): number {
  const pid = run.child.pid as number;
  return process.env.MEMSERVE_TEST_BIN === undefined ? (childrenOf(pid)[0] ?? pid) : pid;
}

/** The admin server's URL from a run's stdout (`--admin-port`), or undefined before it is printed. */
export function adminUrl(stdout: string): string | undefined {
  return /admin \(healthz, readyz, metrics\) at (http:\/\/\S+)/.exec(stdout)?.[1];
}

/** A port nothing listens on right now. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}
