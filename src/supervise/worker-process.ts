import type { CliOptions } from "../cli/args.ts";
import { readImage, unmapReplacedSoon } from "../image/read-image.ts";
import { openAccessLog } from "../server/access-log.ts";
import { type RunningServer, startServer } from "../server/start-server.ts";
import { loadTls } from "../server/tls.ts";
import { drainOnShutdown } from "./signals.ts";
import { serverOptions } from "./site-options.ts";

export interface WorkerSetup {
  readonly options: CliOptions;
  /** The port the primary bound (resolved, so `--port 0` gives every process the same one). */
  readonly port: number;
}

/** Primary -> worker: serve this image from now on. */
export interface ImageMessage {
  readonly type: "image";
  readonly path: string;
  readonly generation: number;
}

/**
 * Primary -> worker: shutdown has begun. A message, not a signal: a worker that got the signal
 * directly too (sent to the whole group) must not count the primary's copy as a second one.
 */
export interface DrainMessage {
  readonly type: "drain";
}

/** Primary -> worker: load the certificate files again (SIGHUP with TLS). */
export interface TlsMessage {
  readonly type: "tls";
}

export type PrimaryMessage = ImageMessage | DrainMessage | TlsMessage;

/** Worker -> primary. */
export type WorkerMessage =
  | { readonly type: "serving"; readonly generation: number }
  | {
      readonly type: "counters";
      readonly entries: readonly { status: string; encoding: string; count: number }[];
      readonly bytes: number;
      readonly connections: number;
    };

const send = (message: WorkerMessage) => process.send?.(message);

/**
 * A worker process: serves the images the primary sends (mapped, so the bodies are shared with
 * every other process), on the primary's port with SO_REUSEPORT. It reports its counters every
 * second, drains on SIGTERM or SIGINT (src/supervise/signals.ts), and when the primary goes away.
 */
export function runWorker(setup: WorkerSetup): void {
  const { options } = setup;
  const accessLog =
    options.accessLog === undefined
      ? undefined
      : openAccessLog(options.accessLog, options.accessLogFormat);
  let server: RunningServer | undefined;
  let stopping = false;
  const drain = drainOnShutdown(options.shutdownTimeoutMs, {
    run: async () => {
      stopping = true;
      await server?.stop(options.shutdownTimeoutMs);
      await accessLog?.close();
    },
  });
  process.on("message", (message: PrimaryMessage) => {
    if (message.type === "drain") drain("the primary is draining");
    if (message.type === "tls" && options.tls !== undefined && server !== undefined) {
      try {
        server.reloadTls(loadTls(options.tls));
      } catch (error) {
        console.error(
          `memserve worker ${process.pid}: certificate not reloaded: ${(error as Error).message}`,
        );
      }
      return;
    }
    if (message.type !== "image" || stopping) return;
    let snapshot: ReturnType<typeof readImage>;
    try {
      snapshot = readImage(message.path);
    } catch (error) {
      // A newer image is on its way (this one was replaced and removed); keep serving.
      console.error(
        `memserve worker ${process.pid}: cannot map ${message.path}: ${(error as Error).message}`,
      );
      return;
    }
    if (server === undefined) {
      server = startServer(snapshot, serverOptions(options, setup.port, accessLog));
    } else {
      server.replaceSnapshot(snapshot);
      unmapReplacedSoon();
    }
    send({ type: "serving", generation: message.generation });
  });
  const report = setInterval(() => {
    if (server === undefined) return;
    const { counters } = server;
    send({
      type: "counters",
      entries: [...counters.entries()],
      bytes: counters.bytesSent,
      connections: server.connections(),
    });
  }, 1000);
  report.unref();
  // The primary is gone (crashed or killed): nothing will tell this worker what to serve.
  process.on("disconnect", () => drain("primary gone"));
  // The primary reloads; a SIGHUP to the whole group (a closed terminal) must not end a worker.
  process.on("SIGHUP", () => {});
}
