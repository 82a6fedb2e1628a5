// What the numbers were measured on, for the report, and the CPU split between server and load.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** The server under test runs on this CPU; wrk and this harness on the other. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

function firstLine(argv: readonly string[]): string {
  const [command = "", ...args] = argv;
  const result = spawnSync(command, args, { encoding: "utf8" });
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  return text.split("\n")[0]?.trim() || "not installed";
}

/** Markdown bullet lines: cores, CPU model, kernel and the versions of every program involved. */
export function describeMachine(): string[] {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  const memory = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
  // wrk prints its version as the first line of its usage text.
  const wrk = firstLine(["wrk", "-v"]).replace(/\s*Copyright.*$/, "");
  return [
    `- nproc: ${firstLine(["nproc", "--all"])}; CPU: ${model}; memory: ${Math.round(Number(memory) / 1048576)} GiB`,
    `- kernel: ${firstLine(["uname", "-r"])}`,
    `- Bun ${Bun.version}; ${firstLine(["nginx", "-v"])}; ${wrk}`,
    `- server pinned to CPU ${SERVER_CPU} (taskset); wrk and the harness to CPU ${LOAD_CPU}`,
  ];
}

/**
 * Moves this process, all its threads and so everything it spawns to the load CPU, so the harness
 * (RSS sampling, the gate) never competes with the server for its core.
 */
export function pinSelfToLoadCpu(): void {
  const result = spawnSync("taskset", ["-a", "-cp", String(LOAD_CPU), String(process.pid)]);
  if (result.status !== 0) throw new Error(`taskset could not pin the harness: ${result.stderr}`);
}
