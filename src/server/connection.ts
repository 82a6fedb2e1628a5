import type { Socket } from "bun";
import { fileOf } from "../image/segments.ts";
import { FAILED, sendFile } from "./sendfile.ts";

/** Per-connection state of the HTTP/1.1 engine. */
export interface Connection {
  /** Bytes received and not yet parsed: a partial head, or pipelined requests waiting their turn. */
  input: Buffer | null;
  /** Output the kernel has not taken yet, in order; views into shared buffers, never copies. */
  readonly queue: Chunk[];
  /** When the head being received started (0: none), for the header-read timeout. */
  headStartedAt: number;
  /** When a byte was last received or taken by the kernel (Date.now()), for the idle timeout. */
  lastActive: number;
  /** Close once the queue is flushed. */
  closing: boolean;
  /** All sent and the write side shut: waiting for the client to close (`linger`). */
  lingering: boolean;
  /** The client shut its sending side: answer what it sent, then close. */
  peerEnded: boolean;
  /** Bytes of a refused request's content still to read and drop before the next request. */
  discard: number;
  /** The socket's descriptor, for sendfile (-1: unknown). */
  readonly fd: number;
  /**
   * Bodies (`sendBody`) of these lengths that are views of a mapped image segment go out by
   * sendfile(2) from its file; undefined: every body is written, and so for the rest of the
   * connection once sendfile fails.
   */
  sendfile: SendfileBands | undefined;
}

/** Queued output: bytes to write, or a body to send from the segment file `file`. */
type Chunk = Uint8Array | FileChunk;

interface FileChunk {
  /** What is left to send: a view of the mapping, which is the file at `bytes.byteOffset`. */
  readonly bytes: Uint8Array;
  readonly file: number;
}

export type Sock = Socket<Connection>;

/** The body lengths sent by sendfile: from `min` up to `max` (exclusive), and from `large` on. */
export interface SendfileBands {
  readonly min: number;
  readonly max: number;
  readonly large: number;
}

/**
 * `bands`: see Connection. The descriptor is Bun's undocumented `socket.fd`; without it
 * everything is written.
 */
export function newConnection(socket: Sock, bands: SendfileBands | undefined): Connection {
  const fd = (socket as unknown as { fd?: unknown }).fd;
  const known = typeof fd === "number" && fd >= 0;
  return {
    fd: known ? fd : -1,
    sendfile: known ? bands : undefined,
    input: null,
    queue: [],
    headStartedAt: 0,
    lastActive: Date.now(),
    closing: false,
    lingering: false,
    peerEnded: false,
    discard: 0,
  };
}

/**
 * How long a connection whose response ended it waits for the client to close (`linger`) before
 * it is cut, as nginx's lingering_timeout: long enough to read a response already sent.
 */
export const LINGER_MS = 5000;

/**
 * Writes what the kernel takes now and queues a view of the rest for `flushQueue`: `write` on a
 * Bun.listen socket buffers nothing, and a body is never copied. Queued or not, bytes leave in the
 * order they were sent: nothing is written while the queue holds anything.
 */
export function send(socket: Sock, data: Uint8Array, offset: number, length: number): void {
  enqueue(socket, data, offset, length, -1);
}

/**
 * `send` for a response body: one long enough that is a view of a mapped segment goes by sendfile
 * from the segment's file. Never a head: a head's Date is refreshed in this process's copy of the
 * page, which the file does not see.
 */
export function sendBody(socket: Sock, data: Uint8Array, offset: number, length: number): void {
  const file = bySendfile(socket.data, length) ? (fileOf(data) ?? -1) : -1;
  enqueue(socket, data, offset, length, file);
}

/** Whether a body of `length` bytes goes by sendfile on this connection (when it is mapped). */
export function bySendfile(conn: Connection, length: number): boolean {
  const bands = conn.sendfile;
  if (bands === undefined) return false;
  return (length >= bands.min && length < bands.max) || length >= bands.large;
}

function enqueue(socket: Sock, data: Uint8Array, offset: number, length: number, file: number) {
  const conn = socket.data;
  if (length === 0) return;
  let taken = 0;
  if (conn.queue.length === 0) {
    taken = put(socket, data, offset, length, file);
    if (taken === length) return;
    if (taken < 0) {
      conn.closing = true;
      return;
    }
  }
  const rest = data.subarray(offset + taken, offset + length);
  conn.queue.push(file < 0 ? rest : { bytes: rest, file });
}

/** On `drain`: writes queued output while the kernel takes it; true once the queue is empty. */
export function flushQueue(socket: Sock): boolean {
  const conn = socket.data;
  conn.lastActive = Date.now(); // progress: a slow reader is not idle
  const queue = conn.queue;
  while (queue.length > 0) {
    const chunk = queue[0] as Chunk;
    const [bytes, file] = chunk instanceof Uint8Array ? [chunk, -1] : [chunk.bytes, chunk.file];
    const taken = put(socket, bytes, 0, bytes.length, file);
    if (taken < 0) return false;
    if (taken < bytes.length) {
      const rest = bytes.subarray(taken);
      queue[0] = file < 0 ? rest : { bytes: rest, file };
      return false;
    }
    queue.shift();
  }
  return true;
}

/**
 * Hands `length` bytes of `data` from `offset` to the kernel, by sendfile from `file` (≥ 0; the
 * view's byteOffset is its place in the file) or by write: the count it took, or -1 when the
 * socket is closed. When sendfile finds the socket's buffer full, the rest is offered to `write`,
 * which takes what room has opened meanwhile or, taking nothing, has Bun poll for writability and
 * call `drain`: a sendfile alone would leave Bun unaware that output waits.
 */
function put(socket: Sock, data: Uint8Array, offset: number, length: number, file: number) {
  const conn = socket.data;
  let sent = 0;
  if (file >= 0 && conn.sendfile !== undefined) {
    const start = data.byteOffset + offset;
    let n = 0;
    while (sent < length) {
      n = sendFile(conn.fd, file, start + sent, length - sent);
      if (n <= 0) break;
      sent += n;
    }
    if (sent === length) return sent;
    // Any failure but a full buffer (a closed socket, which write then reports, or a kernel that
    // refuses): this connection writes from now on.
    if (n === FAILED) conn.sendfile = undefined;
  }
  const written = socket.write(data, offset + sent, length - sent);
  return written < 0 ? -1 : sent + written;
}

/** Close once everything queued is written (RFC 9112 §9.6: close after the final response). */
export function finish(socket: Sock): void {
  socket.data.closing = true;
  if (socket.data.queue.length === 0) linger(socket);
}

/**
 * Ends a connection whose response is all in the kernel by shutting its write side (FIN after the
 * data) and waiting for the client to close, rather than closing at once (RFC 9112 §9.6). A closed
 * socket with unsent data is an orphan: under memory pressure the kernel resets orphans, and the
 * client loses the end of its response (measured under a slow-read attack: 229 of 363 requests
 * reset); a socket closed while the client's next bytes arrive is reset too.
 */
export function linger(socket: Sock): void {
  const conn = socket.data;
  if (conn.lingering) return;
  conn.lingering = true;
  conn.lastActive = Date.now();
  socket.shutdown();
}
