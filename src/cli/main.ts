import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readImage } from "../image/read-image.ts";
import { runBuilderJob } from "../supervise/builder-job.ts";
import { runSite } from "../supervise/site.ts";
import { builderJobFor, openCache, warn } from "../supervise/site-options.ts";
import { type CliOptions, parseCommandLine } from "./args.ts";
import { createProgressBar } from "./progress.ts";
import { pruneStore } from "./prune.ts";
import { formatBytes, formatSummary } from "./summary.ts";
import { USAGE } from "./usage.ts";

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

/**
 * `memserve build <dir>`: the startup build at maximum quality, run here instead of in a builder
 * process: it fills the store and persists the image a later `memserve <dir>` starts from at once
 * (for CI or an image build).
 */
async function build(options: CliOptions): Promise<number> {
  if (options.cacheDir === undefined) {
    console.error("memserve: build needs a writable cache dir (--cache-dir)");
    return 1;
  }
  const staging = mkdtempSync(join(tmpdir(), "memserve-build-"));
  const job = { ...builderJobFor(options, staging), compression: "max" as const };
  const bar = createProgressBar(process.stderr, "compressing (max)");
  let indexPath: string | undefined;
  try {
    await runBuilderJob({ ...job, kind: "startup", firstGeneration: 1 }, (message) => {
      if (message.type === "progress") bar.update(message.progress);
      else if (message.type === "warning") warn(message.message);
      else if (message.type === "image") indexPath = message.indexPath;
    });
  } catch (error) {
    console.error(`memserve: ${(error as Error).message}`);
    return 1;
  } finally {
    bar.done();
  }
  // Mapped before the staging copy goes: the summary reads the image, the store keeps the rest.
  const snapshot = readImage(indexPath as string);
  rmSync(staging, { recursive: true, force: true });
  console.log(
    `memserve: built ${options.root} into ${options.cacheDir} (image for a warm start: ${job.persistDir})`,
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
