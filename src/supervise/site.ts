import { readFileSync } from "node:fs";
import type { CliOptions } from "../cli/args.ts";
import { formatSummary } from "../cli/summary.ts";
import { type AccessLog, openAccessLog } from "../server/access-log.ts";
import { type RunningServer, startServer } from "../server/start-server.ts";
import type { Snapshot } from "../snapshot/types.ts";
import { type AdminServer, type AdminState, startAdmin } from "./admin.ts";
import { LiveSite } from "./live-site.ts";
import { buildOptions, load, openCache, serverOptions, warn } from "./site-options.ts";
import { watchTree } from "./watch.ts";
import { WorkerPool } from "./worker-pool.ts";

export async function runSite(options: CliOptions): Promise<number> {
  const state: AdminState = { serving: undefined, draining: false, workers: undefined };
  let admin: AdminServer | undefined;
  let accessLog: AccessLog | undefined;
  try {
    // First, so a liveness probe passes while a large site loads (and /readyz says "loading").
    if (options.adminPort !== undefined) admin = startAdmin(options.adminPort, state);
  } catch (error) {
    console.error(`memserve: cannot open admin port ${options.adminPort}: ${describe(error)}`);
    return 1;
  }
  try {
    if (options.accessLog !== undefined) {
      accessLog = openAccessLog(options.accessLog, options.accessLogFormat);
    }
  } catch (error) {
    console.error(`memserve: cannot open access log ${options.accessLog}: ${describe(error)}`);
    admin?.stop();
    return 1;
  }
  const store = await openCache(options);
  const level = options.compression === "max" ? "max" : "fast";
  const snapshot = await load(options, level, store);
  if (snapshot === undefined) return 1;
  admin?.observeBuild("startup", snapshot.stats.buildMs / 1000);
  // Loading left the compressors' buffers behind as garbage; collect it now so the RSS reported
  // (and held while serving) is the snapshot's, not the load's.
  Bun.gc(true);
  let server: RunningServer;
  try {
    server = startServer(snapshot, serverOptions(options, options.port, accessLog));
  } catch (error) {
    console.error(`memserve: cannot listen on ${options.host}:${options.port}: ${describe(error)}`);
    return 1;
  }
  let pool: WorkerPool | undefined;
  let served = snapshot;
  if (options.workers > 1) {
    pool = new WorkerPool(options.workers, { options, port: server.port }, (line) =>
      console.log(line),
    );
    // From here every process serves the mapped image; the heap copy becomes garbage.
    served = pool.publish(snapshot);
    server.replaceSnapshot(served);
  }
  state.workers = pool;
  console.log(`memserve: serving ${options.root} at ${server.url}`);
  if (pool !== undefined)
    console.log(`memserve: ${pool.count} processes share one copy of the site`);
  if (admin !== undefined)
    console.log(`memserve: admin (healthz, readyz, metrics) at ${admin.url}`);
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
  const live = new LiveSite(served, server, {
    root: options.root,
    build: buildOptions(options, level, store),
    upgrade,
    log: (line) => console.log(line),
    onBuild: (kind, seconds) => admin?.observeBuild(kind, seconds),
    // With workers every swap writes the whole site as a new image (~30 ms for 64 MiB): fewer batches.
    ...(pool === undefined
      ? {}
      : { publish: (next: Snapshot) => pool.publish(next), batchMs: 5000 }),
  });
  state.serving = { live, server };
  if (upgrade && !atMaximum) void live.startUpgrade(readyMs);
  else if (upgrade) console.log("memserve: at maximum compression already");
  const watcher = options.watch ? watchRoot(options.root, live) : undefined;
  handleSignals(server, options.shutdownTimeoutMs, {
    stopping: () => {
      state.draining = true;
      watcher?.close();
      live.close();
    },
    stopped: async () => {
      await pool?.stop();
      await accessLog?.close();
      admin?.stop();
    },
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
function handleSignals(
  server: RunningServer,
  timeoutMs: number,
  hooks: { stopping: () => void; stopped: () => Promise<void> },
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(0);
    stopping = true;
    hooks.stopping();
    console.log(`memserve: ${signal}, finishing in-flight responses (up to ${timeoutMs / 1000} s)`);
    server
      .stop(timeoutMs)
      .then(hooks.stopped)
      .then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
