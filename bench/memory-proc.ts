// What a memserve process tree costs, the way: anonymous memory (RssAnon) of every process
// plus the tmpfs it created. RssAnon leaves out file-backed and shared pages, so a privately mapped
// image counts only where a process wrote to it; the image's own pages are counted once, as the
// allocated blocks of the /dev/shm entries the tree created and still uses.
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { readProcessMemory } from "../src/supervise/process-memory.ts";
import { processTree } from "./proc.ts";

const SHM = "/dev/shm";

export interface Cost {
  readonly anonKib: number;
  /** Allocated blocks of the /dev/shm entries the tree created, plus deleted files it still maps. */
  readonly shmKib: number;
  readonly processes: number;
}

export const totalKib = (c: Cost): number => c.anonKib + c.shmKib;

/** The names in /dev/shm now (taken before a start, to tell what the server created). */
export function shmEntries(): Set<string> {
  try {
    return new Set(readdirSync(SHM));
  } catch {
    return new Set();
  }
}

/** `RssAnon` of one process in KiB; 0 when it is gone. */
export function readAnonKib(pid: number): number {
  return (readProcessMemory(pid)?.rssAnon ?? 0) / 1024;
}

function tryRead<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** /dev/shm paths a process maps or holds open, with a way to stat each (deleted files too). */
function shmRefs(pid: number): { path: string; deleted: boolean; statPath: string }[] {
  const refs: { path: string; deleted: boolean; statPath: string }[] = [];
  const maps = tryRead(() => readFileSync(`/proc/${pid}/maps`, "utf8"), "");
  for (const line of maps.split("\n")) {
    const at = line.indexOf(`${SHM}/`);
    if (at < 0) continue;
    const path = line.slice(at);
    const range = line.slice(0, line.indexOf(" "));
    const deleted = path.endsWith(" (deleted)");
    const statPath = `/proc/${pid}/map_files/${range}`;
    refs.push({ path: path.replace(/ \(deleted\)$/, ""), deleted, statPath });
  }
  for (const fd of tryRead(() => readdirSync(`/proc/${pid}/fd`), [] as string[])) {
    const link = tryRead(() => readlinkSync(`/proc/${pid}/fd/${fd}`), "");
    if (!link.startsWith(`${SHM}/`)) continue;
    const deleted = link.endsWith(" (deleted)");
    refs.push({
      path: link.replace(/ \(deleted\)$/, ""),
      deleted,
      statPath: `/proc/${pid}/fd/${fd}`,
    });
  }
  return refs;
}

/** Allocated bytes under `path` (st_blocks, as du counts), each inode once. */
function allocated(path: string, seen: Set<string>): number {
  const st = tryRead(() => lstatSync(path), undefined);
  if (st === undefined) return 0;
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return 0;
  seen.add(key);
  let bytes = st.blocks * 512;
  if (st.isDirectory()) {
    for (const name of tryRead(() => readdirSync(path), [] as string[])) {
      bytes += allocated(join(path, name), seen);
    }
  }
  return bytes;
}

export interface ShmUse {
  readonly kib: number;
  /** New /dev/shm entries no process of the tree references: someone else's, or leaked. */
  readonly unattributed: readonly string[];
}

/**
 * The tree's /dev/shm: entries new since `before` that a process of the tree maps or holds open
 * (other sessions create `memserve-*` entries on this machine too), whole, plus deleted files
 * still mapped, which du would miss but which still hold memory.
 */
export function shmUse(pids: readonly number[], before: ReadonlySet<string>): ShmUse {
  const seen = new Set<string>();
  const tops = new Set<string>();
  let bytes = 0;
  for (const pid of pids) {
    for (const ref of shmRefs(pid)) {
      if (ref.deleted) {
        const st = tryRead(() => statSync(ref.statPath), undefined);
        const key = st === undefined ? "" : `${st.dev}:${st.ino}`;
        if (st !== undefined && !seen.has(key)) {
          seen.add(key);
          bytes += st.blocks * 512;
        }
        continue;
      }
      const top = ref.path.slice(SHM.length + 1).split("/")[0] ?? "";
      if (top !== "" && !before.has(top)) tops.add(top);
    }
  }
  for (const top of tops) bytes += allocated(join(SHM, top), seen);
  const unattributed = [...shmEntries()].filter((e) => !before.has(e) && !tops.has(e));
  return { kib: bytes / 1024, unattributed };
}

/** The cost of `rootPid` and all its descendants now. */
export function measureCost(
  rootPid: number,
  before: ReadonlySet<string>,
): Cost & { readonly unattributed: readonly string[] } {
  const pids = processTree(rootPid);
  const anonKib = pids.reduce((sum, pid) => sum + readAnonKib(pid), 0);
  const shm = shmUse(pids, before);
  return { anonKib, shmKib: shm.kib, processes: pids.length, unattributed: shm.unattributed };
}

/** Prometheus text -> `name{labels}` -> value (comments and blank lines skipped). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)$/.exec(line.trim());
    if (match?.[1] !== undefined) values.set(match[1], Number(match[2]));
  }
  return values;
}

export interface SnapshotGauges {
  readonly files: number;
  readonly belowMaximum: number;
  /** Every stored variant's bytes: `memserve_snapshot_bytes{encoding}` summed. */
  readonly servedBytes: number;
  /** A builder process is reported: the pass, or persisting its image for a warm start, goes on. */
  readonly building: boolean;
}

export function snapshotGauges(metrics: ReadonlyMap<string, number>): SnapshotGauges {
  let servedBytes = 0;
  let building = false;
  for (const [key, value] of metrics) {
    if (key.startsWith("memserve_snapshot_bytes{")) servedBytes += value;
    if (key.includes('role="builder"')) building = true;
  }
  return {
    files: metrics.get("memserve_snapshot_files") ?? 0,
    belowMaximum: metrics.get("memserve_snapshot_below_maximum_files") ?? Number.NaN,
    servedBytes,
    building,
  };
}

/** The admin port's snapshot gauges; undefined while it does not answer. */
export async function readGauges(adminPort: number): Promise<SnapshotGauges | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    return res.ok ? snapshotGauges(parseMetrics(await res.text())) : undefined;
  } catch {
    return undefined;
  }
}
