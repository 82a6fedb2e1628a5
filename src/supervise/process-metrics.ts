import { Counter, Gauge, type Registry } from "prom-client";
import {
  directoryBytes,
  type ProcessCpu,
  type ProcessMemory,
  readProcessCpu,
  readProcessMemory,
} from "./process-memory.ts";

/** A memserve process: the primary (`server`), a `--workers` process, or the snapshot builder. */
export interface ProcessRef {
  readonly role: "server" | "worker" | "builder";
  readonly pid: number;
}

/** The snapshot image being served: where its files are, and their bytes by part. */
export interface ImageBytes {
  /** The runtime directory on tmpfs (`/dev/shm/memserve-<id>/`); its allocated bytes are reported. */
  readonly runtimeDir: string;
  /** Response bodies, heads, and the index files, in bytes of content. */
  readonly bodies: number;
  readonly heads: number;
  readonly index: number;
}

interface Reading {
  readonly process: ProcessRef;
  readonly memory: ProcessMemory | undefined;
  readonly cpu: ProcessCpu | undefined;
}

/** A scrape reads every gauge within milliseconds: read /proc once for all of them. */
const READING_TTL_MS = 200;

/**
 * Process and image metrics read from /proc and the runtime directory when Prometheus scrapes,
 * in place of prom-client's defaults (which under Bun report a heap used larger than the heap
 * total, and a `process_heap_bytes` of the whole reserved address space). Every process of the
 * server is reported, labelled by role and pid; a process that has exited is left out.
 */
export function registerProcessMetrics(
  registry: Registry,
  processes: () => readonly ProcessRef[],
  image: () => ImageBytes | undefined,
): void {
  let cached: { at: number; readings: Reading[] } | undefined;
  const readings = (): Reading[] => {
    const now = performance.now();
    if (cached === undefined || now - cached.at > READING_TTL_MS) {
      const list = processes().map((ref) => ({
        process: ref,
        memory: readProcessMemory(ref.pid),
        cpu: readProcessCpu(ref.pid),
      }));
      cached = { at: now, readings: list };
    }
    return cached.readings;
  };
  const labels = ({ role, pid }: ProcessRef) => ({ role, pid: String(pid) });
  const perProcess = (
    name: string,
    help: string,
    value: (reading: Reading) => number | undefined,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["role", "pid"],
      registers: [registry],
      collect() {
        this.reset();
        for (const reading of readings()) {
          const v = value(reading);
          if (v !== undefined) this.set(labels(reading.process), v);
        }
      },
    });
  perProcess(
    "memserve_process_resident_memory_bytes",
    "Resident memory (VmRSS): counts pages shared with other processes, the tmpfs image's included, in each",
    (r) => r.memory?.rss,
  );
  perProcess(
    "memserve_process_pss_bytes",
    "Proportional set size: each resident page divided by the number of processes mapping it",
    (r) => r.memory?.rollup?.pss,
  );
  perProcess(
    "memserve_process_anonymous_memory_bytes",
    "Resident anonymous memory (RssAnon): this process's own, JS heap and copied image pages included",
    (r) => r.memory?.rssAnon,
  );
  perProcess("memserve_process_open_fds", "Open file descriptors", (r) => r.cpu?.openFds);
  perProcess(
    "memserve_process_start_time_seconds",
    "Start time of the process, seconds since the Unix epoch",
    (r) => r.cpu?.startTimeSeconds,
  );
  new Counter({
    name: "memserve_process_cpu_seconds_total",
    help: "CPU time, user and system, in seconds",
    labelNames: ["role", "pid"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { process, cpu } of readings()) {
        if (cpu !== undefined) this.inc(labels(process), cpu.cpuSeconds);
      }
    },
  });
  new Gauge({
    name: "memserve_shm_bytes",
    help: "Bytes allocated to the snapshot images' files on tmpfs (the runtime directory)",
    registers: [registry],
    collect() {
      const dir = image()?.runtimeDir;
      this.set(dir === undefined ? 0 : directoryBytes(dir));
    },
  });
  new Gauge({
    name: "memserve_image_bytes",
    help: "Bytes of the snapshot image being served, by part: bodies, heads, index",
    labelNames: ["part"],
    registers: [registry],
    collect() {
      const current = image();
      this.set({ part: "bodies" }, current?.bodies ?? 0);
      this.set({ part: "heads" }, current?.heads ?? 0);
      this.set({ part: "index" }, current?.index ?? 0);
    },
  });
}
