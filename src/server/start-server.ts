import type { Server } from "bun";
import type { HandlerOptions } from "../http/decide.ts";
import { handleRequest } from "../http/handler.ts";
import type { ContentCoding, Snapshot } from "../snapshot/types.ts";
import type { AccessLog } from "./access-log.ts";
import type { SendfileBands } from "./connection.ts";
import { ResponseCounters } from "./counters.ts";
import { Http1Engine, type TlsMaterial } from "./engine.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./http1-parse.ts";
import { sendfileAvailable } from "./sendfile.ts";

export interface ServerOptions {
  readonly port: number;
  readonly host: string;
  readonly handler: HandlerOptions;
  /**
   * `http1` (default): memserve's own HTTP/1.1 engine on Bun.listen, the fast path. `fetch`: the
   * same decisions behind `Bun.serve`, as an app embedding `handleRequest` would run them.
   */
  readonly engine?: "http1" | "fetch";
  readonly limits?: HeadLimits;
  readonly headerTimeoutMs?: number;
  readonly idleTimeoutS?: number;
  readonly reusePort?: boolean;
  /** Open connections at most (http1 engine; 0 or absent: no limit); one more gets 503. */
  readonly maxConnections?: number;
  /**
   * Large bodies by sendfile(2) from the mapped image (http1 engine): `auto` (default) where it
   * can be had, `on` the same but an error where it cannot, `off` never.
   */
  readonly sendfile?: "auto" | "on" | "off";
  /** The shortest body sent by sendfile (default SENDFILE_MIN). */
  readonly sendfileMin?: number;
  /** Bodies this long or longer are written (default SENDFILE_MAX; Infinity: no limit)... */
  readonly sendfileMax?: number;
  /** ...up to this length, from which they go by sendfile again (default SENDFILE_LARGE). */
  readonly sendfileLarge?: number;
  /** One line per response (`--access-log`); the fetch engine does not log. */
  readonly accessLog?: AccessLog | undefined;
  /** Called when answering throws (a bug): the client gets a 500, the server goes on. */
  readonly onError?: (error: Error) => void;
  /** Serve HTTPS with this certificate and key (PEM text); bodies are then written, not sendfile'd. */
  readonly tls?: TlsMaterial | undefined;
  /** With `engine: "fetch"` and `tls`: offer HTTP/2 (ALPN h2) as well as HTTP/1.1. */
  readonly http2?: boolean;
}

export interface RunningServer {
  /** `http://127.0.0.1:8080`; IPv6 hosts in brackets. */
  readonly url: string;
  readonly port: number;
  /** How large bodies leave: by sendfile for the lengths in its bands, or all written. */
  readonly bodies: ({ readonly by: "sendfile" } & SendfileBands) | { readonly by: "write" };
  /** Every response, counted by status and encoding, and bytes sent (for metrics). */
  readonly counters: ResponseCounters;
  /** Open client connections now (the fetch engine: requests in flight). */
  connections(): number;
  /** Atomically serve a new snapshot; requests already running finish on the one they started with. */
  replaceSnapshot(next: Snapshot): void;
  /**
   * New connections get this certificate; open ones keep theirs (a new listener on the same port
   * replaces the old one). Throws, changing nothing, when the certificate or key is unusable.
   */
  reloadTls(tls: TlsMaterial): void;
  /** Stop accepting, let in-flight responses finish for up to `timeoutMs`, then close what is left. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Bodies from SENDFILE_MIN up to SENDFILE_MAX, and from SENDFILE_LARGE on, go out by sendfile; the
 * rest are written. Sendfile's CPU per request over write's, measured with `npm run bench` on
 * loopback (bench/results/2026-12-04-sendfile*.md): 16 KiB 1.24x, 32 KiB 1.16x, 64 KiB 1.00x,
 * 96 KiB 0.86x, 128 KiB 0.40x, 160 KiB 0.82x, 192 KiB 0.84x, then 256 KiB 1.47x, 300 KB 1.36x,
 * 512 KiB 1.09x, 1 MiB 1.59x, and below again from 1.5 MiB: 0.79x, 2 MiB 0.70x, 4 MiB 0.43x,
 * 7 MiB 0.45x. The kernel's loopback path makes the middle sizes dear (nginx's sendfile swings
 * the same way); see the README's Performance section.
 */
export const SENDFILE_MIN = 64 * 1024;
export const SENDFILE_MAX = 192 * 1024;
export const SENDFILE_LARGE = 2 * 1024 * 1024;

/** Throws when `--sendfile on` asks for sendfile where it cannot be had. */
export function checkSendfile(mode: ServerOptions["sendfile"]): void {
  if (mode === "on" && !sendfileAvailable()) {
    throw new Error("--sendfile on: sendfile(2) is not available here (Linux and bun:ffi only)");
  }
}

/**
 * Starts serving `snapshot` on `host:port` (port 0 picks a free one). Throws if it cannot listen,
 * or when `sendfile: "on"` and sendfile cannot be had.
 */
export function startServer(snapshot: Snapshot, options: ServerOptions): RunningServer {
  const counters = new ResponseCounters();
  const server =
    options.engine === "fetch"
      ? startFetchServer(snapshot, options, counters)
      : startEngine(snapshot, options, counters);
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const scheme = options.tls === undefined ? "http" : "https";
  return { ...server, counters, url: `${scheme}://${host}:${server.port}` };
}

type Started = Omit<RunningServer, "url" | "counters">;

function startEngine(
  snapshot: Snapshot,
  options: ServerOptions,
  counters: ResponseCounters,
): Started {
  const mode = options.sendfile ?? "auto";
  const bands: SendfileBands = {
    min: options.sendfileMin ?? SENDFILE_MIN,
    max: options.sendfileMax ?? SENDFILE_MAX,
    large: options.sendfileLarge ?? SENDFILE_LARGE,
  };
  checkSendfile(mode);
  if (mode === "on" && options.tls !== undefined) {
    throw new Error(
      "--sendfile on: bodies over TLS are encrypted in this process, not sent by the kernel",
    );
  }
  // TLS encrypts in user space: there is no file-to-socket path for sendfile to take.
  const bySendfile = mode !== "off" && options.tls === undefined && sendfileAvailable();
  const engine = new Http1Engine(snapshot, {
    port: options.port,
    host: options.host,
    handler: options.handler,
    limits: options.limits ?? DEFAULT_HEAD_LIMITS,
    headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
    idleTimeoutS: options.idleTimeoutS ?? 30,
    reusePort: options.reusePort ?? false,
    maxConnections: options.maxConnections ?? 0,
    counters,
    accessLog: options.accessLog,
    sendfile: bySendfile ? bands : undefined,
    tls: options.tls,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    port: engine.port,
    bodies: bySendfile ? { by: "sendfile", ...bands } : { by: "write" },
    connections: () => engine.connections,
    replaceSnapshot: (next) => engine.replaceSnapshot(next),
    reloadTls: (tls) => engine.reloadTls(tls),
    stop: (timeoutMs) => engine.stop(timeoutMs),
  };
}

function startFetchServer(
  snapshot: Snapshot,
  options: ServerOptions,
  counters: ResponseCounters,
): Started {
  let current = snapshot;
  const handlerOptions = options.handler;
  const answer = (request: Request): Response => {
    const response = handleRequest(current, request, handlerOptions);
    const encoding = (response.headers.get("content-encoding") ?? "identity") as ContentCoding;
    counters.count(response.status, encoding, Number(response.headers.get("content-length") ?? 0));
    return response;
  };
  // Bun.serve's reload() keeps the certificate, so a new one means a new server on the same port.
  const serve = (port: number, tls: TlsMaterial | undefined): Server<undefined> =>
    Bun.serve({
      port,
      hostname: options.host,
      reusePort: (options.reusePort ?? false) || tls !== undefined,
      ...(tls === undefined ? {} : { tls }),
      ...(options.http2 === true && tls !== undefined ? { http2: true } : {}),
      development: false,
      idleTimeout: options.idleTimeoutS ?? 30,
      // A static server takes no request content; anything larger than this is refused with 413.
      maxRequestBodySize: 64 * 1024,
      fetch(request) {
        // Bun's HTTP/2 resets the stream of a response sent before the request's content was read
        // (curl: "Stream error in the HTTP/2 framing layer" for most POSTs answered 405): read it
        // first, at most maxRequestBodySize.
        if (options.http2 === true && request.body !== null) {
          const respond = () => answer(request);
          return request.arrayBuffer().then(respond, respond);
        }
        return answer(request);
      },
      error(error) {
        options.onError?.(error);
        const headers = { ...current.extraHeaders, "content-type": "text/plain; charset=utf-8" };
        return new Response("500 Internal Server Error\n", { status: 500, headers });
      },
    });
  let server = serve(options.port, options.tls);
  const retired: Server<undefined>[] = [];
  return {
    port: server.port ?? options.port,
    bodies: { by: "write" },
    connections: () => server.pendingRequests + retired.reduce((n, r) => n + r.pendingRequests, 0),
    replaceSnapshot(next) {
      current = next;
    },
    reloadTls(tls) {
      const next = serve(server.port ?? options.port, tls);
      const old = server;
      retired.push(old);
      // Counted until its last request is answered, then let go.
      void old.stop(false).then(() => retired.splice(retired.indexOf(old), 1));
      server = next;
    },
    async stop(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const outcome = await Promise.race([
        server.stop(false).then(() => "done" as const),
        deadline,
      ]);
      clearTimeout(timer);
      if (outcome === "timeout") await server.stop(true);
    },
  };
}
