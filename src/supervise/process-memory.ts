import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * What a process holds, from /proc (proc(5); the kernel's Documentation/filesystems/proc.rst), in bytes. Linux only: elsewhere the readers return
 * undefined and the metrics built from them are absent rather than wrong.
 *
 * Which numbers count (checked on this kernel, Linux 6.18): a page of a tmpfs file mapped privately
 * (MAP_PRIVATE) and only read is counted in RssShmem, and in Pss_Shmem divided among the processes
 * that map it; once the process writes it (copy-on-write) that page moves to RssAnon. So a server's
 * own memory is RssAnon (JS heap, index, copied pages), and the bodies are counted once, as the
 * tmpfs directory's allocated blocks.
 */

/** Lines `Name:   1234 kB` of /proc/<pid>/status or smaps_rollup, in bytes (the kernel's "kB" is KiB). */
function kibFields(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const match of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) {
    fields.set(match[1] as string, Number(match[2]) * 1024);
  }
  return fields;
}

/** Memory fields of /proc/<pid>/status (proc(5)); a field the kernel does not report is 0. */
export interface StatusMemory {
  /** VmRSS: resident pages, RssAnon + RssFile + RssShmem. */
  readonly rss: number;
  /** RssAnon (Linux 4.5+): resident anonymous pages: heaps, stacks, copy-on-write copies. */
  readonly rssAnon: number;
  /** RssFile: resident pages of mapped files (the executable, libraries). */
  readonly rssFile: number;
  /** RssShmem: resident pages of shared memory and tmpfs files, /dev/shm included. */
  readonly rssShmem: number;
  /** VmHWM: the highest VmRSS so far. */
  readonly peakRss: number;
  /** VmSize: virtual address space (reserved, mostly never touched: not memory used). */
  readonly virtual: number;
  /** VmSwap: anonymous pages swapped out. */
  readonly swap: number;
}

/**
 * Parses /proc/<pid>/status.
 *
 * @example
 * parseStatus("VmHWM:\t   27204 kB\nVmRSS:\t   27204 kB\nRssAnon:\t    2380 kB\n")
 * // -> { rss: 27856896, rssAnon: 2437120, peakRss: 27856896, rssFile: 0, rssShmem: 0, virtual: 0, swap: 0 }
 */
export function parseStatus(text: string): StatusMemory {
  const fields = kibFields(text);
  const get = (name: string) => fields.get(name) ?? 0;
  return {
    rss: get("VmRSS"),
    rssAnon: get("RssAnon"),
    rssFile: get("RssFile"),
    rssShmem: get("RssShmem"),
    peakRss: get("VmHWM"),
    virtual: get("VmSize"),
    swap: get("VmSwap"),
  };
}

/**
 * /proc/<pid>/smaps_rollup (Linux 4.14+): the process's mappings summed. PSS (proportional set
 * size) divides each page by the number of processes mapping it, so PSS summed over processes
 * counts a shared page once.
 */
export interface SmapsRollup {
  readonly rss: number;
  readonly pss: number;
  /** Pss_Anon, Pss_File, Pss_Shmem (Linux 5.3+): PSS split by the kind of page. */
  readonly pssAnon: number;
  readonly pssFile: number;
  readonly pssShmem: number;
  readonly sharedClean: number;
  readonly sharedDirty: number;
  readonly privateClean: number;
  /** Private_Dirty: note that tmpfs pages are always dirty, so it includes unwritten tmpfs pages. */
  readonly privateDirty: number;
  readonly swap: number;
}

/**
 * Parses /proc/<pid>/smaps_rollup; a field the kernel does not report is 0.
 *
 * @example
 * parseSmapsRollup("Rss:  27396 kB\nPss:  26104 kB\nPss_Anon:  2380 kB\n")
 * // -> { rss: 28053504, pss: 26730496, pssAnon: 2437120, pssFile: 0, pssShmem: 0, ... }
 */
export function parseSmapsRollup(text: string): SmapsRollup {
  const fields = kibFields(text);
  const get = (name: string) => fields.get(name) ?? 0;
  return {
    rss: get("Rss"),
    pss: get("Pss"),
    pssAnon: get("Pss_Anon"),
    pssFile: get("Pss_File"),
    pssShmem: get("Pss_Shmem"),
    sharedClean: get("Shared_Clean"),
    sharedDirty: get("Shared_Dirty"),
    privateClean: get("Private_Clean"),
    privateDirty: get("Private_Dirty"),
    swap: get("Swap"),
  };
}

export interface ProcessMemory extends StatusMemory {
  /** Undefined when smaps_rollup cannot be read (an older kernel, or not permitted). */
  readonly rollup: SmapsRollup | undefined;
}

const onLinux = process.platform === "linux";

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process is gone (ENOENT, ESRCH) or not ours to read (EACCES)
  }
}

/** The memory of process `pid`; undefined when it is gone or this is not Linux. */
export function readProcessMemory(pid: number): ProcessMemory | undefined {
  if (!onLinux) return undefined;
  const status = readProc(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const rollup = readProc(`/proc/${pid}/smaps_rollup`);
  return {
    ...parseStatus(status),
    rollup: rollup === undefined ? undefined : parseSmapsRollup(rollup),
  };
}

/**
 * Bytes allocated to the files below `dir` (st_blocks × 512, stat(2)), each inode counted once as
 * `du` does; 0 when `dir` does not exist. On tmpfs this is the memory the files hold, holes and
 * all rounded to pages. Files removed during the walk are skipped.
 */
export function directoryBytes(dir: string): number {
  const seen = new Set<string>();
  let bytes = 0;
  const walk = (path: string) => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      const child = join(path, name);
      let stat: ReturnType<typeof statSync>;
      try {
        stat = statSync(child, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (stat === undefined) continue;
      if (stat.isDirectory()) walk(child);
      else if (stat.isFile()) {
        const inode = `${stat.dev}:${stat.ino}`;
        if (seen.has(inode)) continue;
        seen.add(inode);
        bytes += stat.blocks * 512;
      }
    }
  };
  walk(dir);
  return bytes;
}

/** Fields of /proc/<pid>/stat (proc(5)), times in clock ticks. */
export interface StatTimes {
  /** Field 14 utime and 15 stime: CPU time in user and kernel mode. */
  readonly userTicks: number;
  readonly systemTicks: number;
  /** Field 22 starttime: when the process started, in ticks after boot. */
  readonly startTicks: number;
}

/**
 * Parses /proc/<pid>/stat. Field 2, the command name in parentheses, may itself hold spaces and
 * parentheses, so fields are counted from the last `)`.
 *
 * @example
 * parseStat("7371 (bun) R 7369 7369 4056 0 -1 4194304 1192 0 0 0 150 3 0 0 20 0 1 0 476051 …")
 * // -> { userTicks: 150, systemTicks: 3, startTicks: 476051 }
 */
export function parseStat(text: string): StatTimes {
  const after = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // `after[0]` is field 3 (state), so field n is after[n - 3].
  const field = (n: number) => Number(after[n - 3]);
  const times = { userTicks: field(14), systemTicks: field(15), startTicks: field(22) };
  if (!Object.values(times).every(Number.isFinite)) throw new Error("not a /proc/<pid>/stat line");
  return times;
}

/**
 * The boot time from /proc/stat's `btime` line, in seconds since the epoch.
 *
 * @example
 * parseBootTime("cpu  18057 0 4164 911662\nbtime 1796237746\n") // -> 1796237746
 */
export function parseBootTime(text: string): number | undefined {
  const match = /^btime (\d+)$/m.exec(text);
  return match === undefined || match === null ? undefined : Number(match[1]);
}

/**
 * USER_HZ, the unit of /proc's tick counts (sysconf(_SC_CLK_TCK), times(2)). It is part of the
 * kernel ABI and 100 on every architecture Bun runs on; a unit test checks `getconf CLK_TCK`.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessCpu {
  /** utime + stime, seconds. */
  readonly cpuSeconds: number;
  /** Seconds since the epoch (boot time + starttime). */
  readonly startTimeSeconds: number;
  /** Entries of /proc/<pid>/fd; 0 when not permitted to list them. */
  readonly openFds: number;
}

let bootTime: number | undefined;

/** CPU time, start time and open descriptors of process `pid`; undefined when gone or not Linux. */
export function readProcessCpu(pid: number): ProcessCpu | undefined {
  if (!onLinux) return undefined;
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  bootTime ??= parseBootTime(readProc("/proc/stat") ?? "") ?? 0;
  const times = parseStat(stat);
  let openFds = 0;
  try {
    openFds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // gone since, or another user's process
  }
  return {
    cpuSeconds: (times.userTicks + times.systemTicks) / CLOCK_TICKS_PER_SECOND,
    startTimeSeconds: bootTime + times.startTicks / CLOCK_TICKS_PER_SECOND,
    openFds,
  };
}
