import { resolve } from "node:path";
import type { CliOptions } from "../cli/args.ts";
import { persistDir } from "../image/persist.ts";
import type { AccessLog } from "../server/access-log.ts";
import type { TlsMaterial } from "../server/engine.ts";
import type { ServerOptions } from "../server/start-server.ts";
import { loadTls } from "../server/tls.ts";
import { type CompressionStore, openStore } from "../snapshot/store.ts";
import type { BuilderJob } from "./builder-job.ts";

export const warn = (message: string) => console.error(`memserve: warning: ${message}`);

/** The persistent store, unless disabled; an unusable directory is a warning, not an error. */
export function openCache(options: CliOptions): Promise<CompressionStore | undefined> {
  if (options.cacheDir === undefined) return Promise.resolve(undefined);
  return openStore(options.cacheDir, { onWarning: warn });
}

/**
 * The builder job for a site, but what each run fills in: its kind, the image it starts from and
 * the first generation it writes.
 */
export function builderJobFor(
  options: CliOptions,
  runtimeDir: string,
): Omit<BuilderJob, "kind" | "previous" | "firstGeneration"> {
  return {
    root: options.root,
    build: {
      maxAge: options.maxAge,
      cacheControl: options.cacheControl,
      extraHeaders: options.headers,
      dictionaryVersions: options.dictionaryVersions,
    },
    compression: options.compression,
    cacheDir: options.cacheDir,
    runtimeDir,
    // With workers each batch is mapped by every process: fewer, larger batches.
    batchMs: options.workers > 1 ? 5000 : 1000,
    persistDir: persistDirOf(options),
  };
}

/**
 * How every process of a `memserve <dir>` listens: on `port` (the primary's, resolved, for workers),
 * with SO_REUSEPORT when asked or when workers share the port.
 */
export function serverOptions(
  options: CliOptions,
  port: number,
  accessLog: AccessLog | undefined,
  /** The certificate already read; a worker reads its own. */
  tls: TlsMaterial | undefined = options.tls === undefined ? undefined : loadTls(options.tls),
): ServerOptions {
  return {
    port,
    host: options.host,
    engine: options.engine,
    sendfile: options.sendfile,
    sendfileMin: options.sendfileMin,
    sendfileMax: options.sendfileMax,
    sendfileLarge: options.sendfileLarge,
    reusePort: options.reusePort || options.workers > 1,
    maxConnections: options.maxConnections,
    accessLog,
    handler: {
      spa: options.spa,
      maxRanges: options.maxRanges,
      cors: options.cors,
      cleanUrls: options.cleanUrls,
      trailingSlash: options.trailingSlash,
    },
    tls,
    http2: options.http2,
    onError: (error) =>
      console.error(`memserve ${process.pid}: error while answering: ${error.stack}`),
  };
}

/**
 * Where a site's image persists for a warm start (`memserve build` writes it too): keyed by the
 * absolute root and the options that shape its bytes. Not by `--compression`: an image at
 * maximum quality serves every mode.
 */
export function persistDirOf(options: CliOptions): string | undefined {
  if (options.cacheDir === undefined) return undefined;
  const shape = [
    options.maxAge,
    options.cacheControl ?? null,
    options.headers,
    options.dictionaryVersions > 0,
  ];
  return persistDir(options.cacheDir, resolve(options.root), shape);
}
