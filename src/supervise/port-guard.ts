import { readFileSync } from "node:fs";

/**
 * Sharing a port is opt-in. Workers bind with SO_REUSEPORT, which lets any later socket of the same
 * user that also sets it share the port (socket(7)), so without a guard a second memserve would
 * start and silently take half the connections. Every memserve that listens on a fixed port holds
 * a guard: an abstract unix socket (unix(7): no file, gone when the process is) named
 * `memserve:<port>:<shared|exclusive>:<pid>:<host>`, listed in /proc/net/unix. A memserve refuses the
 * port when another guard on an overlapping address is exclusive (or its own is). Each registers
 * its guard before it lists the others, so of two starting at once at least one sees the other.
 * An exclusive one also binds the address once without SO_REUSEPORT, which fails while anything
 * listens there (an older memserve, another server).
 */

export const IN_USE =
  "the address is already in use (start every instance with --reuse-port to share a port)";

export class PortInUseError extends Error {
  constructor() {
    super(IN_USE);
  }
}

export interface Guard {
  readonly port: number;
  /** Started with --reuse-port. */
  readonly shared: boolean;
  readonly pid: number;
  readonly host: string;
}

export function guardName(guard: Guard): string {
  const mode = guard.shared ? "shared" : "exclusive";
  return `memserve:${guard.port}:${mode}:${guard.pid}:${normalize(guard.host)}`;
}

/** The guards in the text of /proc/net/unix (abstract names are shown with a leading `@`). */
export function parseGuards(procNetUnix: string): Guard[] {
  const guards: Guard[] = [];
  for (const line of procNetUnix.split("\n")) {
    const match = /@memserve:(\d+):(shared|exclusive):(\d+):(\S+)$/.exec(line);
    if (match === null) continue;
    const [, port, mode, pid, host] = match as unknown as [string, string, string, string, string];
    guards.push({ port: Number(port), shared: mode === "shared", pid: Number(pid), host });
  }
  return guards;
}

const WILDCARDS = new Set(["*", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"]);
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1)$/;

function normalize(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, "$1") || "*";
}

/** Whether two bind addresses can take the same connections (a wildcard overlaps everything). */
export function hostsOverlap(a: string, b: string): boolean {
  const [x, y] = [normalize(a), normalize(b)];
  if (x === y || WILDCARDS.has(x) || WILDCARDS.has(y)) return true;
  return (x === "localhost" || y === "localhost") && LOOPBACK.test(x) && LOOPBACK.test(y);
}

/** Whether `mine` may not share its port with one of `others` (its own guard aside). */
export function conflicts(mine: Guard, others: readonly Guard[]): boolean {
  return others.some(
    (other) =>
      other.pid !== mine.pid &&
      other.port === mine.port &&
      !(other.shared && mine.shared) &&
      hostsOverlap(other.host, mine.host),
  );
}

/**
 * Claims `host:port` for this process before it listens there; throws PortInUseError when it is
 * taken. The guard lasts as long as the process. Port 0 (a fresh port) needs none.
 */
export function claimPort(host: string, port: number, shared: boolean): void {
  if (port === 0) return;
  const mine: Guard = { port, shared, pid: process.pid, host };
  const guard = holdGuard(mine);
  if (guard !== undefined && conflicts(mine, parseGuards(readProcNetUnix()))) {
    guard.stop(true);
    throw new PortInUseError();
  }
  if (!shared && !canBindAlone(host, port)) {
    guard?.stop(true);
    throw new PortInUseError();
  }
}

/** Guards held by this process (referenced, so they live until it exits). */
const held: unknown[] = [];

/** The guard socket; undefined where abstract unix sockets do not exist (not Linux). */
function holdGuard(mine: Guard): { stop(closeActive?: boolean): void } | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const guard = Bun.listen({ unix: `\0${guardName(mine)}`, socket: { data() {} } });
    held.push(guard);
    return guard;
  } catch {
    return undefined; // no guard to hold (a sandbox without unix sockets): the bind check remains
  }
}

function readProcNetUnix(): string {
  try {
    return readFileSync("/proc/net/unix", "utf8");
  } catch {
    return "";
  }
}

/** Binds without SO_REUSEPORT and lets go: false when something already listens there. */
function canBindAlone(host: string, port: number): boolean {
  try {
    Bun.listen({ hostname: host, port, socket: { data() {} } }).stop(true);
    return true;
  } catch (error) {
    // Any other failure (EACCES, an address not on this host) is reported by the real listen.
    return (error as { code?: string }).code !== "EADDRINUSE";
  }
}
