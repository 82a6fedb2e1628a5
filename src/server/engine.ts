import type { TCPSocketListener, TCPSocketListenOptions } from "bun";
import { decide, type HandlerOptions, type Outcome, statusOutcome } from "../http/decide.ts";
import type { Snapshot } from "../snapshot/types.ts";
import type { AccessLog } from "./access-log.ts";
import {
  type Connection,
  finish,
  flushQueue,
  LINGER_MS,
  linger,
  newConnection,
  type SendfileBands,
  type Sock,
} from "./connection.ts";
import type { ResponseCounters } from "./counters.ts";
import { type Decision, DecisionCache } from "./decision-cache.ts";
import { type HeadLimits, locateHead, parseHeadText, type RequestHead } from "./http1-parse.ts";
import { sendOutcome, sendPrepared } from "./respond.ts";

export interface EngineOptions {
  readonly port: number;
  readonly host: string;
  readonly handler: HandlerOptions;
  readonly limits: HeadLimits;
  /** A request head must arrive within this (slowloris); then 408 and close. */
  readonly headerTimeoutMs: number;
  /** A connection with nothing to read or write for this long is closed. */
  readonly idleTimeoutS: number;
  /** Set `SO_REUSEPORT` so a new process can take over the port (zero-downtime restart). */
  readonly reusePort: boolean;
  /** Open connections at most; one more is answered 503 and closed (0: no limit). */
  readonly maxConnections: number;
  /** Where every response is counted (metrics). */
  readonly counters: ResponseCounters;
  /** One line per response when set (`--access-log`). */
  readonly accessLog?: AccessLog | undefined;
  /**
   * Body lengths that go out by sendfile(2) when they are views of a mapped image (undefined:
   * every body is written; see connection.ts).
   */
  readonly sendfile: SendfileBands | undefined;
  readonly onError?: (error: Error) => void;
  /** PEM texts: served as HTTPS (ALPN http/1.1); `reloadTls` swaps them. */
  readonly tls?: TlsMaterial | undefined;
}

/** A certificate (chain), its key and optionally CA certificates, as PEM text. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string | undefined;
}

/** ALPN in its wire form (a length byte, then the name): Bun takes no plain string here. */
const ALPN_HTTP1 = Buffer.from("\x08http/1.1", "latin1");

/**
 * While stopping, how long a connection with nothing in flight may stay silent before it is closed:
 * long enough for a request the client already sent to arrive, short enough not to hold shutdown.
 */
const DRAIN_IDLE_MS = 250;

/** Pipelined input beyond this while responses wait for the client to read them ends the connection. */
const MAX_BUFFERED_INPUT = 64 * 1024;

/** A refused request's content up to this is read and dropped, keeping the connection (nginx too). */
const MAX_DROPPED_CONTENT = 64 * 1024;

/**
 * Bun's `socket.timeout()` fires on uSockets' 4-second sweep, so `timeout(1)` closed idle connections
 * anywhere from 0.5 s to 4 s after their last byte (measured). The engine sweeps its own connections
 * instead, often enough that the header and idle timeouts hold to a fraction of their value.
 */
function sweepIntervalMs(options: EngineOptions): number {
  const shortest = Math.min(options.headerTimeoutMs, options.idleTimeoutS * 1000);
  return Math.min(1000, Math.max(50, Math.floor(shortest / 8)));
}

/**
 * The HTTP/1.1 engine on `Bun.listen`: parses request heads itself and writes responses whose heads
 * (and small bodies) were serialized once per variant. `write` returns what the kernel took and
 * buffers nothing, so the rest is queued as views and sent on `drain`: bodies are never copied.
 */
export class Http1Engine {
  private snapshot: Snapshot;
  private listener: TCPSocketListener<Connection>;
  private readonly sockets = new Set<Sock>();
  private draining = false;
  private cache = new DecisionCache();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    snapshot: Snapshot,
    private readonly options: EngineOptions,
  ) {
    this.snapshot = snapshot;
    this.listener = this.listen(options.port, options.tls);
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs(options));
    this.sweeper.unref();
  }

  /**
   * A listener on `port` with these handlers. With TLS it always sets SO_REUSEPORT, so that
   * `reloadTls` can open the next listener on the same port before closing this one.
   */
  private listen(port: number, tls: TlsMaterial | undefined): TCPSocketListener<Connection> {
    const { options } = this;
    // `reusePort` works at runtime (SO_REUSEPORT, as in Bun.serve) but is missing from the
    // TCPSocketListenOptions type of Bun 1.4.5, so the options are typed with it added.
    const listenOptions: TCPSocketListenOptions<Connection> & { reusePort: boolean } = {
      hostname: options.host,
      port,
      reusePort: options.reusePort || tls !== undefined,
      ...(tls === undefined ? {} : { tls: { ...tls, ALPNProtocols: ALPN_HTTP1 } }),
      // A client may send its requests and then shut its side (`nc -N`, some proxies): it still
      // reads the answers, so its FIN must not close the connection under them.
      allowHalfOpen: true,
      socket: {
        open: (socket) => this.onOpen(socket),
        data: (socket, chunk) => this.onData(socket, chunk),
        drain: (socket) => this.onDrain(socket),
        end: (socket) => {
          socket.data.peerEnded = true;
          this.processInput(socket, socket.data);
        },
        close: (socket) => {
          this.sockets.delete(socket);
        },
        error: (socket, error) => {
          this.sockets.delete(socket);
          options.onError?.(error);
        },
      },
    };
    return Bun.listen<Connection>(listenOptions);
  }

  /**
   * Serves new connections with a new certificate: a second listener on the same port takes them,
   * then the first stops accepting. Open connections go on with the certificate they started with.
   *
   * @throws Error when the certificate or key is unusable; the current listener then stays
   */
  reloadTls(tls: TlsMaterial): void {
    if (this.draining) return;
    const next = this.listen(this.listener.port, tls);
    const previous = this.listener;
    this.listener = next;
    previous.stop(false);
  }

  get port(): number {
    return this.listener.port;
  }

  replaceSnapshot(next: Snapshot): void {
    this.snapshot = next;
    this.cache = new DecisionCache();
  }

  /** Open connections (for tests and metrics). */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting. Every response from now on says `Connection: close` and closes after it; a
   * connection with nothing to send and no request arriving closes once it has been idle for
   * DRAIN_IDLE_MS (a request already on its way is answered, not reset: the client of a restart
   * loses nothing). Whatever is left after `timeoutMs` is cut.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.listener.stop(false);
    const deadline = Date.now() + timeoutMs;
    // Lingering connections have their whole response in the kernel: they do not hold shutdown.
    const busy = () => [...this.sockets].some((socket) => !socket.data.lingering);
    while (busy() && Date.now() < deadline) {
      this.closeIdle(Date.now() - DRAIN_IDLE_MS);
      await Bun.sleep(20);
    }
    for (const socket of this.sockets) socket.terminate();
    this.listener.stop(true);
    clearInterval(this.sweeper);
  }

  /** Ends connections with nothing queued, no request started and no byte since `before`. */
  private closeIdle(before: number): void {
    for (const socket of this.sockets) {
      const conn = socket.data;
      const quiet = conn.queue.length === 0 && conn.input === null && conn.headStartedAt === 0;
      if (quiet && !conn.closing && conn.lastActive <= before) {
        conn.closing = true;
        socket.end();
      }
    }
  }

  private onOpen(socket: Sock): void {
    socket.data = newConnection(socket, this.options.sendfile);
    const { maxConnections } = this.options;
    if (maxConnections > 0 && this.sockets.size >= maxConnections) {
      // Answered rather than reset, so the client knows to come back (RFC 9110 §15.6.4).
      sendOutcome(this.options, socket, undefined, statusOutcome(this.snapshot, 503), true);
      return;
    }
    this.sockets.add(socket);
  }

  private onData(socket: Sock, chunk: Buffer): void {
    const conn = socket.data;
    if (conn.closing) return; // an answer that ends the connection is on its way; ignore the rest
    conn.lastActive = Date.now();
    // Copy leftovers only: the usual request arrives whole in one chunk and is parsed in place.
    conn.input = conn.input === null ? chunk : Buffer.concat([conn.input, chunk]);
    this.processInput(socket, conn);
  }

  private processInput(socket: Sock, conn: Connection): void {
    this.answerInput(socket, conn);
    // After the client's FIN, once every complete request it sent is answered: close. An unfinished
    // head will never be completed.
    if (conn.peerEnded && conn.queue.length === 0 && !conn.closing) finish(socket);
  }

  private answerInput(socket: Sock, conn: Connection): void {
    const input = conn.input;
    if (input === null) return;
    let offset = 0;
    // While earlier responses wait for the client to read them, later requests wait in `input`.
    while (offset < input.length && conn.queue.length === 0 && !conn.closing) {
      if (conn.discard > 0) {
        const dropped = Math.min(conn.discard, input.length - offset);
        conn.discard -= dropped;
        offset += dropped;
        continue;
      }
      const located = locateHead(input, offset, this.options.limits);
      if (located.kind === "incomplete") break;
      if (located.kind === "error") {
        this.refuse(socket, conn, located.status);
        return;
      }
      const decision = this.decisionFor(located.text);
      if (typeof decision === "number") {
        this.refuse(socket, conn, decision);
        return;
      }
      offset += located.consumed;
      conn.headStartedAt = 0;
      const { content } = decision.head;
      // nginx's way with a POST: 405, its content read and dropped and the connection kept; one
      // too large to be worth reading, or chunked, is answered and the connection closed.
      const closing = content === "chunked" || content > MAX_DROPPED_CONTENT;
      if (!closing) conn.discard = content;
      this.answer(socket, decision.head, decision.outcome, closing);
    }
    const rest = input.length - offset;
    conn.input = rest === 0 ? null : Buffer.from(input.subarray(offset));
    if (rest === 0) return;
    if (rest > MAX_BUFFERED_INPUT) {
      socket.terminate();
      return;
    }
    this.checkHeaderTimeout(socket, conn);
  }

  /** Slowloris: a head trickling in byte by byte still has to be complete within the timeout. */
  private checkHeaderTimeout(socket: Sock, conn: Connection): void {
    if (conn.queue.length > 0) return;
    const now = Date.now();
    if (conn.headStartedAt === 0) conn.headStartedAt = now;
    const remaining = conn.headStartedAt + this.options.headerTimeoutMs - now;
    // A client that goes silent mid-head is answered by `sweep` when its time is up.
    if (remaining <= 0) this.refuse(socket, conn, 408);
  }

  /** Header-read timeout (408, then close) for silent clients; idle timeout (cut) for everyone. */
  private sweep(): void {
    const now = Date.now();
    const idleMs = this.options.idleTimeoutS * 1000;
    for (const socket of this.sockets) {
      const conn = socket.data;
      const headLate = now - conn.headStartedAt >= this.options.headerTimeoutMs;
      if (conn.headStartedAt !== 0 && headLate && conn.queue.length === 0 && !conn.closing) {
        this.refuse(socket, conn, 408);
      } else if (now - conn.lastActive >= (conn.lingering ? LINGER_MS : idleMs)) {
        socket.terminate();
      }
    }
  }

  /** The cached decision for this exact head, or parse and decide it; a number is a 4xx to refuse with. */
  private decisionFor(text: string): Decision | number {
    const cached = this.cache.get(text);
    if (cached !== undefined) return cached;
    const parsed = parseHeadText(text, this.options.limits);
    if (parsed.kind === "error") return parsed.status;
    const head = parsed.head;
    try {
      const outcome = decide(
        this.snapshot,
        head.method,
        head.target,
        head.headers,
        this.options.handler,
      );
      const decision = { head, outcome };
      this.cache.remember(text, decision);
      return decision;
    } catch (error) {
      this.options.onError?.(error as Error);
      return { head, outcome: statusOutcome(this.snapshot, 500) };
    }
  }

  /** Answers a malformed or over-limit request with its 4xx, then closes (RFC 9112 §9.6). */
  private refuse(socket: Sock, conn: Connection, status: number): void {
    conn.input = null;
    sendOutcome(this.options, socket, undefined, statusOutcome(this.snapshot, status), true);
  }

  private answer(socket: Sock, head: RequestHead, outcome: Outcome, closing = false): void {
    const close = closing || !head.keepAlive || this.draining;
    // Fast path: a variant's 200 or 304 on a persistent HTTP/1.1 connection is prepared bytes.
    if ((!close || head.http10) && sendPrepared(this.options, socket, head, outcome)) {
      if (close) finish(socket);
      return;
    }
    sendOutcome(this.options, socket, head, outcome, close);
  }

  private onDrain(socket: Sock): void {
    if (!flushQueue(socket)) return;
    if (socket.data.closing) linger(socket);
    else this.processInput(socket, socket.data);
  }
}
