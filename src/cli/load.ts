import type { BuildOptions } from "../snapshot/build.ts";
import { buildSnapshot } from "../snapshot/build.ts";
import { type CompressionStore, openStore } from "../snapshot/store.ts";
import type { Snapshot } from "../snapshot/types.ts";
import type { CliOptions } from "./args.ts";
import { createProgressBar } from "./progress.ts";

export const warn = (message: string) => console.error(`memserve: warning: ${message}`);

/** The persistent store, unless disabled; an unusable directory is a warning, not an error. */
export function openCache(options: CliOptions): Promise<CompressionStore | undefined> {
  if (options.cacheDir === undefined) return Promise.resolve(undefined);
  return openStore(options.cacheDir, { onWarning: warn });
}

export function buildOptions(
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
export async function load(
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
