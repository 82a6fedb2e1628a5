import type { Progress } from "../snapshot/build.ts";
import { formatBytes } from "./summary.ts";

/** What a terminal needs: the `isTTY` flag and a way to write. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

const WIDTH = 24;
const REDRAW_MS = 100;

/**
 * `compressing (max) [#########---------------]  812/2638 files  12.3 MiB/48.5 MiB  ETA 14 s`
 * The bar goes by bytes (compression time follows size, not file count); ETA from the rate so far.
 */
export function formatProgress(label: string, p: Progress, elapsedMs: number): string {
  const fraction = p.totalBytes === 0 ? 1 : p.bytes / p.totalBytes;
  const filled = Math.round(fraction * WIDTH);
  const bar = `${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}`;
  const eta =
    fraction > 0 && fraction < 1
      ? `  ETA ${Math.ceil(((elapsedMs / fraction) * (1 - fraction)) / 1000)} s`
      : "";
  const files = `${String(p.files).padStart(String(p.totalFiles).length)}/${p.totalFiles} files`;
  return `${label} [${bar}] ${files}  ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}${eta}`;
}

/**
 * A progress bar redrawn in place at most every 100 ms, on a terminal only: off a terminal (logs,
 * CI) the caller prints one line per phase instead, so this returns no-op callbacks there.
 */
export function createProgressBar(
  output: ProgressOutput,
  label: string,
): { update: (p: Progress) => void; done: () => void } {
  if (output.isTTY !== true) return { update: () => {}, done: () => {} };
  const started = performance.now();
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < REDRAW_MS && p.files < p.totalFiles) return;
      last = now;
      drawn = true;
      output.write(`\r\x1b[2K${formatProgress(label, p, now - started)}`);
    },
    done() {
      if (drawn) output.write("\r\x1b[2K");
    },
  };
}
