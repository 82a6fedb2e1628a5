import type { Server } from "bun";
import { type HandlerOptions, handleRequest } from "../http/handler.ts";
import type { Snapshot } from "../snapshot/types.ts";

export interface ServerOptions {
  readonly port: number;
  readonly host: string;
  readonly handler: HandlerOptions;
  /** Called when a request handler throws (a bug): the client gets a 500, the server goes on. */
  readonly onError?: (error: Error) => void;
}

export interface RunningServer {
  /** `http://127.0.0.1:8080`; IPv6 hosts in brackets. */
  readonly url: string;
  readonly port: number;
  /** Atomically serve a new snapshot; requests already running finish on the one they started with. */
  replaceSnapshot(next: Snapshot): void;
  /**
   * Stop accepting, let in-flight responses finish for up to `timeoutMs`, then close what is left.
   * Resolves when the listener is closed.
   */
  stop(timeoutMs: number): Promise<void>;
}

/** Starts a Bun server answering every request from `snapshot` through the pure handler. */
export function startServer(snapshot: Snapshot, options: ServerOptions): RunningServer {
  let current = snapshot;
  const handlerOptions = options.handler;
  const server: Server<undefined> = Bun.serve({
    port: options.port,
    hostname: options.host,
    development: false,
    // A static server takes no request content; anything larger than this is refused with 413.
    maxRequestBodySize: 64 * 1024,
    fetch(request) {
      return handleRequest(current, request, handlerOptions);
    },
    error(error) {
      options.onError?.(error);
      const headers = { ...current.extraHeaders, "content-type": "text/plain; charset=utf-8" };
      return new Response("500 Internal Server Error\n", { status: 500, headers });
    },
  });
  const port = server.port ?? options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    replaceSnapshot(next) {
      current = next;
    },
    async stop(timeoutMs) {
      const graceful = server.stop(false);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      const outcome = await Promise.race([graceful.then(() => "done" as const), deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") await server.stop(true);
    },
  };
}
