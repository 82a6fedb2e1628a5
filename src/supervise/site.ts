import { readFileSync, rmSync } from "node:fs";
import type { CliOptions } from "../cli/args.ts";
import { formatSummary } from "../cli/summary.ts";
import { restoreImage } from "../image/persist.ts";
import { type ImageSnapshot, readImage } from "../image/read-image.ts";
import { type AccessLog, openAccessLog } from "../server/access-log.ts";
import type { TlsMaterial } from "../server/engine.ts";
import { startRedirect } from "../server/redirect-http.ts";
import { checkSendfile, type RunningServer, startServer } from "../server/start-server.ts";
import { describeCertificate, loadTls, type TlsFiles } from "../server/tls.ts";
import { type AdminServer, type AdminState, startAdmin } from "./admin.ts";
import { LiveSite } from "./live-site.ts";
import { readMemoryReport } from "./memory-report.ts";
import { claimPort } from "./port-guard.ts";
import type { ProcessRef } from "./process-metrics.ts";
import { createRuntimeDir, generationOf, imageName } from "./runtime-dir.ts";
import { drainOnShutdown } from "./signals.ts";
import { builderJobFor, persistDirOf, serverOptions, warn } from "./site-options.ts";
import { watchTree } from "./watch.ts";
import { WorkerPool } from "./worker-pool.ts";

/** The processes serving a site and what they serve, filled in as `runSite` goes. */
interface Site {
  readonly options: CliOptions;
  readonly state: AdminState;
  readonly runtimeDir: string;
  readonly live: LiveSite;
  admin: AdminServer | undefined;
  accessLog: AccessLog | undefined;
  server: RunningServer | undefined;
  pool: WorkerPool | undefined;
  redirect: { readonly port: number; stop(): void } | undefined;
  /** performance.now() when the site began serving. */
  readyMs: number;
}

/**
 * `memserve <dir>`: open the admin port and access log -> create the runtime dir on tmpfs -> claim
 * the port -> load
 * (a persisted image, else a builder process) -> listen -> start the workers -> watch and handle
 * signals -> announce. Resolves with 0 once serving (the process goes on), or the exit code of a
 * failure before that.
 */
export async function runSite(options: CliOptions): Promise<number> {
  // The certificate is read and checked once, before loading, as the port below.
  let tls: TlsMaterial | undefined;
  try {
    checkSendfile(options.sendfile);
    tls = options.tls === undefined ? undefined : loadTls(options.tls);
  } catch (error) {
    console.error(`memserve: ${describe(error)}`);
    return 1;
  }
  const site = openOutputs(options);
  if (site === undefined) return 1;
  // Before loading, so a port that is taken is refused at once, not after a long build.
  if (!claim(site)) return fail(site);
  const restored = restore(site);
  if (!(await site.live.start(restored))) return fail(site);
  if (!listen(site, tls)) return fail(site);
  startWorkers(site);
  // Before the URL line: whoever waits for it may signal at once.
  supervise(site);
  announce(site, restored !== undefined);
  return 0;
}

function openOutputs(options: CliOptions): Site | undefined {
  const state: AdminState = { serving: undefined, draining: false, workers: undefined };
  let admin: AdminServer | undefined;
  let accessLog: AccessLog | undefined;
  try {
    // First, so a liveness probe passes while a large site loads (and /readyz says "loading").
    if (options.adminPort !== undefined)
      admin = startAdmin(options.adminPort, state, options.adminHost);
  } catch (error) {
    console.error(`memserve: cannot open admin port ${options.adminPort}: ${describe(error)}`);
    return undefined;
  }
  try {
    if (options.accessLog !== undefined) {
      accessLog = openAccessLog(options.accessLog, options.accessLogFormat);
    }
  } catch (error) {
    console.error(`memserve: cannot open access log ${options.accessLog}: ${describe(error)}`);
    admin?.stop();
    return undefined;
  }
  const runtimeDir = createRuntimeDir();
  const site: Site = {
    options,
    state,
    runtimeDir,
    admin,
    accessLog,
    server: undefined,
    pool: undefined,
    redirect: undefined,
    readyMs: 0,
    live: undefined as unknown as LiveSite,
  };
  (site as { live: LiveSite }).live = createLive(site);
  state.processes = () => processesOf(site);
  state.image = () => imageBytesOf(site);
  return site;
}

function createLive(site: Site): LiveSite {
  const { options } = site;
  const job = builderJobFor(options, site.runtimeDir);
  return new LiveSite(() => site.server, {
    job,
    log: (line) => console.log(line),
    warn,
    progress: true,
    publish: (indexPath, generation) => site.pool?.publish(indexPath, generation),
    oldestServedElsewhere: () => site.pool?.oldestServed() ?? Infinity,
    onBuild: (kind, seconds) => site.admin?.observeBuild(kind, seconds),
    onMilestone: (kind, snapshot) => printSummary(site, kind, snapshot),
  });
}

/**
 * A warm start: the persisted image, verified and copied to tmpfs; undefined for a cold start (or
 * when `--compression max` asks for more than the persisted image has).
 */
function restore(site: Site): ImageSnapshot | undefined {
  const dir = persistDirOf(site.options);
  const indexPath =
    dir === undefined ? undefined : restoreImage(dir, site.runtimeDir, imageName(1));
  if (indexPath === undefined) return undefined;
  const restored = readImage(indexPath);
  if (site.options.compression !== "max" || restored.stats.belowMaximum === 0) return restored;
  rmSync(indexPath);
  return undefined;
}

function claim(site: Site): boolean {
  const { options } = site;
  try {
    claimPort(options.host, options.port, options.reusePort);
    return true;
  } catch (error) {
    console.error(`memserve: cannot listen on ${options.host}:${options.port}: ${describe(error)}`);
    return false;
  }
}

function listen(site: Site, tls: TlsMaterial | undefined): boolean {
  const { options } = site;
  try {
    site.server = startServer(
      site.live.current,
      serverOptions(options, options.port, site.accessLog, tls),
    );
  } catch (error) {
    console.error(`memserve: cannot listen on ${options.host}:${options.port}: ${describe(error)}`);
    return false;
  }
  if (options.redirectHttp !== undefined) {
    try {
      site.redirect = startRedirect(options.host, options.redirectHttp, site.server.port);
    } catch (error) {
      console.error(
        `memserve: cannot listen on ${options.host}:${options.redirectHttp} (--redirect-http): ${describe(error)}`,
      );
      return false;
    }
  }
  site.readyMs = performance.now();
  site.state.serving = { live: site.live, server: site.server };
  return true;
}

function startWorkers(site: Site): void {
  const { options, server, live } = site;
  if (options.workers <= 1 || server === undefined) return;
  const onServing = () => live.collect();
  const pool = new WorkerPool(
    options.workers,
    { options, port: server.port },
    (line) => console.log(line),
    onServing,
  );
  site.pool = pool;
  site.state.workers = pool;
  const { indexPath } = live.current.image;
  pool.publish(indexPath, generationOf(indexPath));
}

function announce(site: Site, warm: boolean): void {
  const { options, server, pool, admin } = site;
  console.log(`memserve: serving ${options.root} at ${server?.url}`);
  if (warm)
    console.log(
      "memserve: warm start from the persisted image; checking the tree in the background",
    );
  if (pool !== undefined)
    console.log(`memserve: ${pool.count} processes share one copy of the site`);
  console.log(`memserve: ${describeBodies(site)}`);
  if (admin !== undefined)
    console.log(`memserve: admin (healthz, readyz, metrics) at ${admin.url}`);
  if (options.reusePort || options.tls !== undefined) warnUnlessMigrating();
  printSummary(site, "ready", site.live.current);
}

/** The table at ready (once listening) and again at maximum compression. */
function printSummary(site: Site, kind: "ready" | "maximum", snapshot: ImageSnapshot): void {
  if (kind === "ready" && site.readyMs === 0) return; // printed by `announce` once listening
  const { compression } = site.options;
  const atMaximum = snapshot.stats.belowMaximum === 0;
  const maximum =
    kind === "maximum" || atMaximum
      ? performance.now()
      : compression === "both"
        ? "compressing in the background"
        : "not sought (--compression fast)";
  const timing = { readyMs: site.readyMs, maximum };
  const memory = readMemoryReport(processesOf(site), imageBytesOf(site));
  for (const line of formatSummary(snapshot, process.memoryUsage.rss(), timing, memory)) {
    console.log(line);
  }
}

function processesOf(site: Site): ProcessRef[] {
  const processes: ProcessRef[] = [{ role: "server", pid: process.pid }];
  for (const pid of site.pool?.pids() ?? []) processes.push({ role: "worker", pid });
  const builder = site.live.builderPid;
  if (builder !== undefined) processes.push({ role: "builder", pid: builder });
  return processes;
}

function imageBytesOf(site: Site) {
  const image = site.state.serving === undefined ? undefined : site.live.current.image;
  if (image === undefined) return undefined;
  const { bodies, heads, indexBytes } = image;
  return { runtimeDir: site.runtimeDir, bodies, heads, index: indexBytes };
}

function fail(site: Site): number {
  site.live.close();
  site.admin?.stop();
  void site.accessLog?.close();
  removeRuntimeDir(site);
  return 1;
}

function removeRuntimeDir(site: Site): void {
  rmSync(site.runtimeDir, { recursive: true, force: true });
}

/** Reload on SIGHUP and `--watch`; drain on SIGTERM/SIGINT. */
function supervise(site: Site): void {
  const { options, live, state } = site;
  const watcher = options.watch ? watchRoot(options.root, live) : undefined;
  const server = site.server as RunningServer;
  const timeoutMs = options.shutdownTimeoutMs;
  drainOnShutdown(timeoutMs, {
    run: async (reason) => {
      state.draining = true;
      site.pool?.beginStop(); // the workers drain alongside, not after
      watcher?.close();
      live.close();
      console.log(
        `memserve: ${reason}, finishing in-flight responses (up to ${timeoutMs / 1000} s)`,
      );
      site.redirect?.stop();
      await server.stop(timeoutMs);
      await site.pool?.stop();
      await site.accessLog?.close();
      site.admin?.stop();
      removeRuntimeDir(site);
    },
    cut: () => {
      site.pool?.kill();
      removeRuntimeDir(site);
    },
  });
  process.on("SIGHUP", () => {
    console.log("memserve: SIGHUP, reloading");
    if (options.tls !== undefined) reloadCertificate(site, options.tls);
    void live.reload();
  });
}

/** New connections get the certificate and key as they are on disk now; a bad pair changes nothing. */
function reloadCertificate(site: Site, files: TlsFiles): void {
  try {
    const material = loadTls(files);
    site.server?.reloadTls(material);
    site.pool?.reloadTls();
    console.log(`memserve: certificate reloaded: ${describeCertificate(material)}`);
  } catch (error) {
    console.error(`memserve: certificate not reloaded, the previous one stays: ${describe(error)}`);
  }
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
      "net.ipv4.tcp_migrate_req is not 1: connections queued on a listener as it closes (this process stopping, a certificate reload) will be reset (sysctl -w net.ipv4.tcp_migrate_req=1)",
    );
  }
}

/** Watching on by default; where the OS will not (its limit on watches), SIGHUP still reloads. */
function watchRoot(root: string, live: LiveSite): { close(): void } | undefined {
  const why = (error: Error) => {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOSPC" || code === "EMFILE"
      ? `${code}: the system's limit on file watches is reached (Linux: fs.inotify.max_user_watches)`
      : error.message;
  };
  try {
    return watchTree(root, () => void live.reload(), {
      onChange: () => live.noteChange(),
      onError: (error) =>
        console.error(
          `memserve: warning: stopped watching ${root} (${why(error)}); SIGHUP still reloads`,
        ),
    });
  } catch (error) {
    console.error(
      `memserve: warning: cannot watch ${root} for changes (${why(error as Error)}); SIGHUP reloads, or start with --no-watch`,
    );
    return undefined;
  }
}

/** The path large bodies take, said once at startup. */
function describeBodies(site: Site): string {
  const bodies = site.server?.bodies;
  if (bodies?.by === "sendfile") {
    const upTo = bodies.max === Number.POSITIVE_INFINITY ? "" : ` up to ${bodies.max}`;
    const large =
      bodies.max === Number.POSITIVE_INFINITY || bodies.large === Number.POSITIVE_INFINITY
        ? ""
        : `, and of ${bodies.large} bytes or more,`;
    return `bodies of ${bodies.min}${upTo} bytes${large} are sent with sendfile(2) from the image`;
  }
  const why =
    site.options.engine === "fetch"
      ? "--engine fetch"
      : site.options.sendfile === "off"
        ? "--sendfile off"
        : site.options.tls !== undefined
          ? "TLS: bodies are encrypted in this process"
          : "sendfile(2) is not available here";
  return `every body is written from memory (${why})`;
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "EADDRINUSE") return "the address is already in use";
  if (code === "EACCES") return "permission denied";
  return (error as Error).message ?? String(error);
}
