// The reference of the startup benchmark: what the command-line compressors take to make every
// maximum-quality encoding memserve makes (brotli -q 11, zstd -19, gzip -9 of each compressible
// file), two at a time like `xargs -P2`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { contentTypeFor } from "../src/snapshot/mime.ts";

export const REFERENCE_TOOLS = ["brotli", "zstd", "gzip"] as const;

/** The compressors not on PATH. */
export function missingTools(): string[] {
  return REFERENCE_TOOLS.filter((tool) => Bun.which(tool) === null);
}

/** `apt-get update` once, then installs brotli and zstd (as root); throws when it cannot. */
export function installTools(log: (line: string) => void): void {
  const missing = missingTools();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(", ")}: run as root, or apt-get install them`);
  }
  log(`installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args: string[]) => spawnSync("apt-get", args, { stdio: "inherit", env }).status;
  if (run(["update"]) !== 0) throw new Error("apt-get update failed");
  const install = ["install", "-y", "--no-install-recommends", "brotli", "zstd"];
  if (run(install) !== 0) throw new Error(`apt-get ${install.join(" ")} failed`);
  const still = missingTools();
  if (still.length > 0) throw new Error(`still missing after install: ${still.join(", ")}`);
}

/** `brotli 1.0.9; zstd v1.5.4; gzip 1.12` (first line of each tool's version output, shortened). */
export function toolVersions(): string {
  const version = (argv: readonly string[]) => {
    const [command = "", ...args] = argv;
    const result = spawnSync(command, args, { encoding: "utf8" });
    const text = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    return /v?\d+\.\d+(\.\d+)?/.exec(text)?.[0] ?? "not installed";
  };
  return `brotli ${version(["brotli", "--version"])}; zstd ${version(["zstd", "--version"])}; gzip ${version(["gzip", "--version"])}`;
}

export interface SourceFile {
  /** Absolute path. */
  readonly path: string;
  readonly size: number;
}

/** Files memserve compresses, by its own rule: a compressible type (mime.ts) and not empty. */
export function compressibleFiles(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  for (const relative of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    const path = join(root, relative);
    const stat = statSync(path);
    if (stat.isFile() && stat.size > 0 && contentTypeFor(relative).compressible) {
      files.push({ path, size: stat.size });
    }
  }
  return files;
}

export interface Job {
  readonly argv: readonly string[];
  readonly bytes: number;
}

// Each process takes a batch of files (up to 64 files or 1 MiB, large files alone), which saves
// a process per small file: spawning one costs several ms on a VM, as much as compressing an icon.
// gzip and zstd write the batch to stdout (/dev/null). brotli 1.0.9 refuses more than one file with
// -c, so it compresses a directory of symlinks to the batch's files and writes each `.br` next to
// its link, in a scratch directory on tmpfs.
const BATCH_FILES = 64;
const BATCH_BYTES = 1024 * 1024;

function batches(files: readonly SourceFile[]): SourceFile[][] {
  const out: SourceFile[][] = [];
  let current: SourceFile[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + file.size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Every command, largest batch first so the two-wide pool ends evenly. brotli's symlinks go to
 * `scratch` (created here; the caller removes it).
 */
export function referenceJobs(files: readonly SourceFile[], scratch: string): Job[] {
  const sorted = [...files].sort((a, b) => b.size - a.size);
  const jobs: Job[] = [];
  batches(sorted).forEach((batch, index) => {
    const paths = batch.map((f) => f.path);
    const bytes = batch.reduce((sum, f) => sum + f.size, 0);
    const dir = join(scratch, `brotli-${index}`);
    mkdirSync(dir, { recursive: true });
    const links = batch.map((f, i) => {
      const link = join(dir, String(i));
      symlinkSync(f.path, link);
      return link;
    });
    jobs.push({ argv: ["brotli", "-q", "11", "-f", "-n", ...links], bytes });
    jobs.push({ argv: ["zstd", "-19", "-T1", "-q", "-c", ...paths], bytes });
    jobs.push({ argv: ["gzip", "-9", "-c", ...paths], bytes });
  });
  return jobs.sort((a, b) => b.bytes - a.bytes);
}

export interface ReferenceResult {
  readonly ms: number;
  readonly processes: number;
}

/**
 * Runs the jobs `parallel` at a time; wall time from the first spawn to the last exit. Rejects on a
 * failing tool or at `deadline` (after killing what still runs).
 */
export async function runReference(
  jobs: readonly Job[],
  deadline: number,
  parallel = 2,
): Promise<ReferenceResult> {
  const queue = [...jobs];
  const running = new Set<Bun.Subprocess>();
  let failed: Error | undefined;
  const timer = setTimeout(
    () => {
      failed ??= new Error("the reference timed out");
      for (const proc of running) proc.kill("SIGKILL");
    },
    Math.max(0, deadline - performance.now()),
  );
  const started = performance.now();
  const worker = async () => {
    for (let job = queue.shift(); job !== undefined && failed === undefined; job = queue.shift()) {
      const proc = Bun.spawn([...job.argv], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      running.add(proc);
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      running.delete(proc);
      if (code !== 0) {
        failed ??= new Error(`${job.argv.slice(0, 3).join(" ")} … exited with ${code}: ${stderr}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    clearTimeout(timer);
  }
  if (failed !== undefined) throw failed;
  return { ms: performance.now() - started, processes: jobs.length };
}
