/**
 * What a process-model test needs to see from outside: which processes a memserve started, whether
 * they are still alive, and which of them holds the server side of a connection.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect, type Socket } from "node:net";

/** The children of `pid`, from /proc/<pid>/task/<pid>/children (proc(5)); none once it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return [];
  }
}

/** Every descendant of `pid`, children first. */
export function descendants(pid: number): number[] {
  const children = childrenOf(pid);
  return [...children, ...children.flatMap(descendants)];
}

/** Alive and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await Bun.sleep(50);
  return check();
}

/** Connects, or resolves with the error code (ECONNREFUSED) when nothing listens. */
export function tryConnect(port: number): Promise<Socket | string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

/** Which of `pids` holds the server side of `client` (a loopback IPv4 connection). */
export function serverPidOf(client: Socket, pids: readonly number[]): number | undefined {
  const hex = (port: number | undefined) => (port ?? 0).toString(16).toUpperCase().padStart(4, "0");
  const local = `0100007F:${hex(client.remotePort)}`;
  const remote = `0100007F:${hex(client.localPort)}`;
  const row = readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1] === local && fields[2] === remote);
  const inode = row?.[9];
  if (inode === undefined) return undefined;
  return pids.find((pid) => {
    try {
      const fds = readdirSync(`/proc/${pid}/fd`);
      return fds.some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`);
    } catch {
      return false;
    }
  });
}

export interface Download {
  readonly socket: Socket;
  received(): number;
  /** The whole response (head and body) once the server closes the connection. */
  readonly done: Promise<Buffer>;
}

/** GETs `path` on a new connection and pauses as soon as the first bytes arrive (a slow reader). */
export async function startDownload(port: number, path: string): Promise<Download> {
  const socket = (await tryConnect(port)) as Socket;
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<Buffer>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    socket.once("close", () => resolve(Buffer.concat(chunks)));
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n`);
  while (received === 0) await Bun.sleep(5);
  socket.pause();
  return { socket, received: () => received, done };
}

/** The body of a complete HTTP/1.1 200 response. */
export function bodyOf(response: Buffer): Buffer {
  const headEnd = response.indexOf("\r\n\r\n") + 4;
  if (!response.subarray(0, headEnd).toString().startsWith("HTTP/1.1 200 ")) {
    throw new Error(`not a 200: ${response.subarray(0, 200).toString()}`);
  }
  return response.subarray(headEnd);
}
