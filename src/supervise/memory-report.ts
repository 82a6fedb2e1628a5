import type { MemoryReport } from "../cli/summary.ts";
import { directoryBytes, readProcessMemory } from "./process-memory.ts";
import type { ImageBytes, ProcessRef } from "./process-metrics.ts";

/**
 * What memserve holds now, for `formatMemory`/`formatSummary`: each process's memory from /proc
 * (a process that has exited is left out) and the image with its runtime directory's allocated
 * bytes.
 */
export function readMemoryReport(
  processes: readonly ProcessRef[],
  image: ImageBytes | undefined,
): MemoryReport {
  const lines = processes.flatMap(({ role, pid }) => {
    const memory = readProcessMemory(pid);
    // A process that has exited but not been reaped yet has no memory left to report.
    if (memory === undefined || memory.rss === 0) return [];
    return [{ role, rss: memory.rss, pss: memory.rollup?.pss, anonymous: memory.rssAnon }];
  });
  return {
    image:
      image === undefined
        ? undefined
        : {
            dir: image.runtimeDir,
            bodies: image.bodies,
            heads: image.heads,
            index: image.index,
            allocated: directoryBytes(image.runtimeDir),
          },
    processes: lines,
  };
}
