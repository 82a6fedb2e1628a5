// Starting and stopping the servers under test, one at a time, each pinned to the server CPU with
// taskset (which execs, so the pid we hold is the server's own).
import { createServer } from "node:net";
import { join } from "node:path";
import { findBrotliStaticModule, nginxArgs, writeNginxPrefix } from "./nginx.ts";
import { processTree } from "./proc.ts";

export type ServerName =
  | "memserve"
  | "memserve-log"
  | "memserve-write"
  | "memserve-sendfile"
  | "memserve-rules"
  | "memserve-tls"
  | "nginx"
  | "nginx-copy"
  | "nginx-tls"
  | "floor";
/**
 * `memserve-log`: memserve with the access log on (to a file) and the admin port open, for their
 * cost. `memserve-write`: every body written (`--sendfile off`); `memserve-sendfile`: every body
 * by sendfile (`--sendfile-min 1 --sendfile-max 0`): side by side they give the threshold.
 * `memserve-rules`: memserve on the same files with 10,000 `_redirects` rules and 1,000
 * `_headers` blocks (bench/rules-corpus.ts). `memserve-tls` and `nginx-tls`: HTTPS with the same
 * self-signed P-256 certificate (`LaunchContext.tls`). `nginx-copy`: nginx with `sendfile off`, for
 * what sendfile costs nginx on the same machine.
 */
export const SERVER_NAMES: readonly ServerName[] = [
  "memserve",
  "memserve-log",
  "memserve-write",
  "memserve-sendfile",
  "memserve-rules",
  "memserve-tls",
  "nginx",
  "nginx-copy",
  "nginx-tls",
  "floor",
];
/** Run when `--servers` is not given: the sendfile comparison is asked for by name. */
export const DEFAULT_SERVERS: readonly ServerName[] = [
  "memserve",
  "memserve-log",
  "memserve-rules",
  "nginx",
  "floor",
];

export interface RunningServer {
  readonly name: ServerName;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What the server printed on stdout so far (memserve's startup summary, for the report). */
  output(): string;
  /** SIGTERM, then SIGKILL to the whole tree if it has not exited within 15 s. */
  stop(): Promise<void>;
}

export interface LaunchContext {
  /** The repository root (memserve and the floor run from there). */
  readonly repo: string;
  readonly root: string;
  /** The same files with the rule files (bench/rules-corpus.ts), for `memserve-rules`. */
  readonly rulesRoot?: string;
  /** PEM files for the `-tls` servers. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** A scratch directory for logs and nginx's prefix. */
  readonly workDir: string;
  readonly cpu: number;
  readonly startupTimeoutMs: number;
}

/** A TCP port that was free a moment ago (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(),
      );
    });
  });
}

function commandFor(name: ServerName, ctx: LaunchContext, port: number): string[] {
  const root = name === "memserve-rules" ? ctx.rulesRoot : ctx.root;
  if (root === undefined) throw new Error("memserve-rules needs the rules site (rulesRoot)");
  const listen = [root, "--port", String(port), "--host", "127.0.0.1"];
  // One process, pinned to the server core like nginx's single worker.
  const memserve = (...extra: string[]) => [
    process.execPath,
    "src/cli/run.ts",
    ...listen,
    "--workers",
    "1",
    ...extra,
  ];
  switch (name) {
    case "memserve":
    case "memserve-rules":
      return memserve();
    case "memserve-tls":
      if (ctx.tls === undefined) throw new Error("memserve-tls needs a certificate (tls)");
      return memserve("--tls-cert", ctx.tls.cert, "--tls-key", ctx.tls.key);
    case "memserve-write":
      return memserve("--sendfile", "off");
    case "memserve-sendfile":
      return memserve("--sendfile", "on", "--sendfile-min", "1", "--sendfile-max", "0");
    case "memserve-log":
      return memserve("--access-log", join(ctx.workDir, `access-${port}.log`), "--admin-port", "0");
    case "floor":
      return [process.execPath, "bench/floor.ts", ...listen];
    case "nginx":
    case "nginx-copy":
    case "nginx-tls": {
      const brotliModule = findBrotliStaticModule();
      if (brotliModule === undefined) throw new Error("the nginx brotli_static module is missing");
      const prefix = join(ctx.workDir, `nginx-${port}`);
      const tls = name === "nginx-tls" ? ctx.tls : undefined;
      if (name === "nginx-tls" && tls === undefined)
        throw new Error("nginx-tls needs a certificate");
      const files = writeNginxPrefix({
        root: ctx.root,
        port,
        prefix,
        brotliModule,
        cpu: ctx.cpu,
        tls,
        copy: name === "nginx-copy",
      });
      return nginxArgs(prefix, files);
    }
  }
}

/** Resolves once `check()` is true, polling every 100 ms; rejects with `what` at the deadline. */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** Whether anything answers HTTP at `url` (nginx prints no ready line). */
async function answers(url: string): Promise<boolean> {
  try {
    // A self-signed certificate for the -tls servers: any answer will do.
    await fetch(`${url}/robots.txt`, {
      signal: AbortSignal.timeout(1000),
      tls: { rejectUnauthorized: false },
    } as RequestInit);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts one server pinned to `ctx.cpu` and waits until it serves: for memserve and the floor, the
 * line with its URL (the CLI contract); for nginx, an HTTP answer.
 */
export async function launchServer(name: ServerName, ctx: LaunchContext): Promise<RunningServer> {
  const port = await freePort();
  const url = `${name.endsWith("-tls") ? "https" : "http"}://127.0.0.1:${port}`;
  const logPath = join(ctx.workDir, `${name}-${port}.log`);
  const proc = Bun.spawn(["taskset", "-c", String(ctx.cpu), ...commandFor(name, ctx, port)], {
    cwd: ctx.repo,
    stdin: "ignore",
    stdout: "pipe",
    stderr: Bun.file(logPath),
  });
  let stdout = "";
  // Drained for the server's whole life: a full pipe would block the server on its next write.
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      if (stdout.length < 65_536) stdout += decoder.decode(chunk, { stream: true });
    }
  })();
  const ready = name.startsWith("nginx") ? () => answers(url) : () => stdout.includes(url);
  try {
    await waitFor(
      () => {
        if (proc.exitCode !== null)
          throw new Error(`${name} exited with ${proc.exitCode}; see ${logPath}`);
        return ready();
      },
      ctx.startupTimeoutMs,
      `${name} to serve at ${url} (log: ${logPath})`,
    );
  } catch (error) {
    // Children first (an nginx worker may already run), then the process we started.
    for (const pid of processTree(proc.pid).reverse()) killQuietly(pid);
    throw error;
  }
  return { name, pid: proc.pid, url, output: () => stdout, stop: () => stopTree(proc, drained) };
}

async function stopTree(proc: Bun.Subprocess, drained: Promise<void>): Promise<void> {
  const tree = processTree(proc.pid);
  proc.kill("SIGTERM");
  const exited = await Promise.race([
    proc.exited.then(() => true),
    Bun.sleep(15_000).then(() => false),
  ]);
  if (!exited) {
    proc.kill("SIGKILL");
    // An nginx worker outlives a SIGKILLed master: end the rest of the tree we started, by pid.
    for (const pid of tree.slice(1)) killQuietly(pid);
  }
  await proc.exited;
  await drained;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * memserve's output says it is at maximum compression with no builder left: the pass ended, or
 * the build was at maximum at once (a filled store; the summary's "maximum in" row), or after a
 * warm start (already at maximum) the background check of the tree ended.
 */
export function isSteady(output: string): boolean {
  if (/warm start/.test(output)) return /reload: no changes|reloaded:/.test(output);
  return /maximum compression in|^\s+maximum\s+in [\d.]+ s/m.test(output);
}
