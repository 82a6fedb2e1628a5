import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { persistImage } from "../image/persist.ts";
import { writeImage } from "../image/write-image.ts";
import { runSite } from "../supervise/site.ts";
import { load, openCache, persistDirOf, warn } from "../supervise/site-options.ts";
import { type CliOptions, parseCommandLine, USAGE } from "./args.ts";
import { pruneStore } from "./prune.ts";
import { formatBytes, formatSummary } from "./summary.ts";

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
      return runSite(command.options);
    case "build":
      return build(command.options);
    case "prune":
      return prune(command.options);
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
  const image = persistDirOf(options) as string;
  const staging = mkdtempSync(join(tmpdir(), "memserve-build-"));
  try {
    persistImage(writeImage(snapshot, staging, "gen-1").indexPath, image);
  } catch (error) {
    console.error(`memserve: cannot write the image into ${image}: ${(error as Error).message}`);
    return 1;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  console.log(
    `memserve: built ${options.root} into ${store.dir} (image for a warm start: ${image})`,
  );
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
