// Readers for /proc: the CPU time and memory of a server's whole process tree (nginx is a master
// and a worker; a Bun server is one process with threads, which /proc/<pid>/stat already sums).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | undefined;

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`, almost always 100). */
export function getClockTicks(): number {
  if (clockTicks === undefined) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim() ?? "";
    const value = Number(out);
    clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return clockTicks;
}

/**
 * The fields of /proc/<pid>/stat after the command name. The name is in parentheses and may itself
 * contain spaces and parentheses, so split after the last `)`. Index 0 is field 3 (state).
 * Undefined when the process is gone.
 */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime of one process (all its threads) in clock ticks; 0 when it is gone. */
export function readCpuTicks(pid: number): number {
  const fields = statFields(pid);
  // Field 14 is utime, 15 stime (proc(5)); index = field - 3.
  return Number(fields?.[11] ?? 0) + Number(fields?.[12] ?? 0);
}

/** A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`); 0 when the process is gone. */
export function readStatusKib(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Resident set size of one process in KiB (VmRSS); 0 when it is gone. */
export function readRssKib(pid: number): number {
  return readStatusKib(pid, "VmRSS");
}

/** `pid` and all its descendants, found by parent pid (field 4) across /proc. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    const siblings = children.get(ppid) ?? [];
    siblings.push(Number(entry));
    children.set(ppid, siblings);
  }
  const tree: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** CPU ticks summed over processes. */
export const sumCpuTicks = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => sum + readCpuTicks(pid), 0);

/**
 * RSS summed over processes, in KiB. Pages shared between nginx's master and worker count twice;
 * that overstates nginx a little, and the report says so.
 */
export const sumRssKib = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => sum + readRssKib(pid), 0);
