import type { Socket } from "bun";

/** Per-connection state of the HTTP/1.1 engine. */
export interface Connection {
  /** Bytes received and not yet parsed: a partial head, or pipelined requests waiting their turn. */
  input: Buffer | null;
  /** Output the kernel has not taken yet, in order; views into shared buffers, never copies. */
  readonly queue: Uint8Array[];
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
}

export type Sock = Socket<Connection>;

export function newConnection(): Connection {
  return {
    input: null,
    queue: [],
    headStartedAt: 0,
    lastActive: Date.now(),
    closing: false,
    lingering: false,
    peerEnded: false,
  };
}

/**
 * How long a connection whose response ended it waits for the client to close (`linger`) before
 * it is cut, as nginx's lingering_timeout: long enough to read a response already sent.
 */
export const LINGER_MS = 5000;

/**
 * Writes what the kernel takes now and queues a view of the rest for `flushQueue`: `write` on a
 * Bun.listen socket buffers nothing, and a body is never copied.
 */
export function send(socket: Sock, data: Uint8Array, offset: number, length: number): void {
  const conn = socket.data;
  if (length === 0) return;
  if (conn.queue.length > 0) {
    conn.queue.push(data.subarray(offset, offset + length));
    return;
  }
  const written = socket.write(data, offset, length);
  if (written === length) return;
  if (written < 0) {
    conn.closing = true;
    return;
  }
  conn.queue.push(data.subarray(offset + written, offset + length));
}

/** On `drain`: writes queued output while the kernel takes it; true once the queue is empty. */
export function flushQueue(socket: Sock): boolean {
  const conn = socket.data;
  conn.lastActive = Date.now(); // progress: a slow reader is not idle
  const queue = conn.queue;
  while (queue.length > 0) {
    const chunk = queue[0] as Uint8Array;
    const written = socket.write(chunk);
    if (written < 0) return false;
    if (written < chunk.length) {
      queue[0] = chunk.subarray(written);
      return false;
    }
    queue.shift();
  }
  return true;
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
