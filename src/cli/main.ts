import { readFileSync } from "node:fs";
import { type RunningServer, startServer } from "../server/serve.ts";
import { type BuildOptions, buildSnapshot } from "../snapshot/build.ts";
import { type CompressionStore, openStore } from "../snapshot/store.ts";
import type { Snapshot } from "../snapshot/types.ts";
import { type CliOptions, parseCommandLine, USAGE } from "./args.ts";
import { LiveSite } from "./live.ts";
import { createProgressBar } from "./progress.ts";
import { pruneStore } from "./prune.ts";
import { formatBytes, formatSummary } from "./summary.ts";
import { watchTree } from "./watch.ts";

const VERSION = "0.1.0";

/** Runs the CLI; resolves with the exit code for failures before serving (the server keeps running). */
export async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommandLine(argv, process.env);
  switch (command.kind) {
    case "help":
      console.log(USAGE);
      return 0;
    case "version":
      console.log(VERSION);
      return 0;
    case "error":
      console.error(`memserve: ${command.message}\nRun "memserve --help" for usage.`);
      return 2;
    case "serve":
      return serve(command.options);
    case "build":
      return build(command.options);
    case "prune":
      return prune(command.options);
  }
}

const warn = (message: string) => console.error(`memserve: warning: ${message}`);

/** The persistent store, unless disabled; an unusable directory is a warning, not an error. */
function openCache(options: CliOptions): Promise<CompressionStore | undefined> {
  if (options.cacheDir === undefined) return Promise.resolve(undefined);
  return openStore(options.cacheDir, { onWarning: warn });
}

function buildOptions(
  options: CliOptions,
  level: "fast" | "max",
  store: CompressionStore | undefined,
): BuildOptions {
  return {
    maxAge: options.maxAge,
    cacheControl: options.cacheControl,
    extraHeaders: options.headers,
    compressionLevel: level,
    onWarning: warn,
    store,
  };
}

/** Loads the snapshot; undefined (after printing why) when the directory cannot be served. */
async function load(
  options: CliOptions,
  level: "fast" | "max",
  store: CompressionStore | undefined,
): Promise<Snapshot | undefined> {
  const bar = createProgressBar(process.stderr, `compressing (${level})`);
  try {
    const build = { ...buildOptions(options, level, store), onProgress: bar.update };
    return await buildSnapshot(options.root, build);
  } catch (error) {
    console.error(`memserve: ${(error as Error).message}`);
    return undefined;
  } finally {
    bar.done();
  }
}

/** `memserve build <dir>`: fill the store at maximum quality (for CI or an image build). */
async function build(options: CliOptions): Promise<number> {
  const store = await openCache(options);
  if (store === undefined) {
    console.error("memserve: build needs a writable cache dir (--cache-dir)");
    return 1;
  }
  const snapshot = await load(options, "max", store);
  if (snapshot === undefined) return 1;
  console.log(`memserve: built ${options.root} into ${store.dir}`);
  const now = performance.now();
  const timing = { readyMs: now, maximum: now };
  for (const line of formatSummary(snapshot, process.memoryUsage.rss(), timing)) console.log(line);
  return 0;
}

/** `memserve prune <dir>`: delete store entries no file of <dir> uses. */
async function prune(options: CliOptions): Promise<number> {
  const store = await openCache(options);
  if (store === undefined) {
    console.error("memserve: prune needs a cache dir (--cache-dir)");
    return 1;
  }
  try {
    const result = await pruneStore(options.root, store, warn);
    console.log(
      `memserve: pruned ${store.dir}: ${result.removed} entries removed (${formatBytes(result.bytesFreed)}), ${result.kept} kept`,
    );
    return 0;
  } catch (error) {
    console.error(`memserve: ${(error as Error).message}`);
    return 1;
  }
}

async function serve(options: CliOptions): Promise<number> {
  const store = await openCache(options);
  const level = options.compression === "max" ? "max" : "fast";
  const snapshot = await load(options, level, store);
  if (snapshot === undefined) return 1;
  // Loading left the compressors' buffers behind as garbage; collect it now so the RSS reported
  // (and held while serving) is the snapshot's, not the load's.
  Bun.gc(true);
  let server: RunningServer;
  try {
    server = startServer(snapshot, {
      port: options.port,
      host: options.host,
      engine: options.engine,
      reusePort: options.reusePort,
      maxConnections: options.maxConnections,
      handler: { spa: options.spa, maxRanges: options.maxRanges, cors: options.cors },
      onError: (error) => console.error(`memserve: error while answering: ${error.stack}`),
    });
  } catch (error) {
    console.error(`memserve: cannot listen on ${options.host}:${options.port}: ${describe(error)}`);
    return 1;
  }
  console.log(`memserve: serving ${options.root} at ${server.url}`);
  if (options.reusePort) warnUnlessMigrating();
  const readyMs = performance.now();
  const upgrade = options.compression === "both";
  const atMaximum = options.compression === "max" || snapshot.stats.belowMaximum === 0;
  const maximum = atMaximum
    ? readyMs
    : upgrade
      ? "compressing in the background"
      : "not sought (--compression fast)";
  const summary = formatSummary(snapshot, process.memoryUsage.rss(), { readyMs, maximum });
  for (const line of summary) console.log(line);
  const live = new LiveSite(snapshot, server, {
    root: options.root,
    build: buildOptions(options, level, store),
    upgrade,
    log: (line) => console.log(line),
  });
  if (upgrade && !atMaximum) void live.startUpgrade(readyMs);
  else if (upgrade) console.log("memserve: at maximum compression already");
  const watcher = options.watch ? watchRoot(options.root, live) : undefined;
  handleSignals(server, options.shutdownTimeoutMs, () => {
    watcher?.close();
    live.close();
  });
  process.on("SIGHUP", () => {
    console.log("memserve: SIGHUP, reloading");
    void live.reload();
  });
  return 0;
}

/**
 * With SO_REUSEPORT, connections still queued on a listener when it closes are reset unless the
 * kernel migrates them (Linux 5.14+); the restart test measured about 1 in 2,500 new connections
 * lost without it.
 */
function warnUnlessMigrating(): void {
  let value: string;
  try {
    value = readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim();
  } catch {
    return; // not Linux, or too old a kernel to have the setting
  }
  if (value !== "1") {
    warn(
      "net.ipv4.tcp_migrate_req is not 1: connections queued when this process stops will be reset (sysctl -w net.ipv4.tcp_migrate_req=1)",
    );
  }
}

function watchRoot(root: string, live: LiveSite): { close(): void } {
  return watchTree(root, () => void live.reload(), {
    onChange: () => live.noteChange(),
    onError: (error) =>
      console.error(
        `memserve: warning: stopped watching ${root} (${error.message}); SIGHUP still reloads`,
      ),
  });
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "EADDRINUSE") return "the address is already in use";
  if (code === "EACCES") return "permission denied";
  return (error as Error).message ?? String(error);
}

/**
 * SIGINT/SIGTERM: stop accepting, drain in-flight responses up to the timeout, then exit 0; a
 * second signal exits at once.
 */
function handleSignals(server: RunningServer, timeoutMs: number, onStop: () => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(0);
    stopping = true;
    onStop();
    console.log(`memserve: ${signal}, finishing in-flight responses (up to ${timeoutMs / 1000} s)`);
    server.stop(timeoutMs).then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
