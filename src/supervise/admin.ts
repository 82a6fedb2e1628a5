import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunningServer } from "../server/start-server.ts";
import { ENCODINGS } from "../snapshot/types.ts";
import type { LiveSite } from "./live-site.ts";
import { type ImageBytes, type ProcessRef, registerProcessMetrics } from "./process-metrics.ts";
import type { WorkerPool } from "./worker-pool.ts";

/** What the admin server reports on; `serving` is set once the site is loaded and listening. */
export interface AdminState {
  serving: { readonly live: LiveSite; readonly server: RunningServer } | undefined;
  /** Set when shutdown begins: /readyz says 503 so load balancers stop sending. */
  draining: boolean;
  /** `--workers`: their counters are added to the primary's. */
  workers: WorkerPool | undefined;
  /** Every memserve process now, for the per-process metrics; default: this one, as `server`. */
  processes?: () => readonly ProcessRef[];
  /** The image being served and its runtime directory; undefined while there is none. */
  image?: () => ImageBytes | undefined;
}

export interface AdminServer {
  readonly url: string;
  /** Records how long a build took (startup, upgrade or reload). */
  observeBuild(kind: "startup" | "upgrade" | "reload", seconds: number): void;
  stop(): void;
}

/**
 * Metrics in the Prometheus text format. The hot path only bumps plain numbers
 * (`ResponseCounters`); every value here is read from them, the live snapshot or the process when
 * Prometheus scrapes.
 */
export function createRegistry(state: AdminState): {
  registry: Registry;
  builds: Histogram<"kind">;
} {
  const registry = new Registry();
  registerProcessMetrics(
    registry,
    () => state.processes?.() ?? [{ role: "server", pid: process.pid }],
    () => state.image?.(),
  );
  new Counter({
    name: "memserve_responses_total",
    help: "Responses sent, by status code and the encoding of the variant sent (none: no variant)",
    labelNames: ["status", "encoding"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { status, encoding, count } of state.serving?.server.counters.entries() ?? []) {
        this.inc({ status, encoding }, count);
      }
      for (const report of state.workers?.reports() ?? []) {
        for (const { status, encoding, count } of report.entries)
          this.inc({ status, encoding }, count);
      }
    },
  });
  new Counter({
    name: "memserve_response_bytes_total",
    help: "Bytes written for responses, heads and bodies",
    registers: [registry],
    collect() {
      this.reset();
      const workers = state.workers?.reports() ?? [];
      this.inc(
        workers.reduce((sum, r) => sum + r.bytes, state.serving?.server.counters.bytesSent ?? 0),
      );
    },
  });
  new Gauge({
    name: "memserve_open_connections",
    help: "Client connections open now",
    registers: [registry],
    collect() {
      const workers = state.workers?.reports() ?? [];
      this.set(
        workers.reduce((sum, r) => sum + r.connections, state.serving?.server.connections() ?? 0),
      );
    },
  });
  new Gauge({
    name: "memserve_snapshot_bytes",
    help: "Bytes held in the snapshot being served, by encoding",
    labelNames: ["encoding"],
    registers: [registry],
    collect() {
      const bytes = state.serving?.live.current.stats.bytesByEncoding;
      for (const encoding of ENCODINGS) this.set({ encoding }, bytes?.[encoding] ?? 0);
    },
  });
  new Gauge({
    name: "memserve_snapshot_files",
    help: "Files in the snapshot being served",
    registers: [registry],
    collect() {
      this.set(state.serving?.live.current.assets.size ?? 0);
    },
  });
  new Gauge({
    name: "memserve_snapshot_below_maximum_files",
    help: "Files with a coding not yet at maximum compression",
    registers: [registry],
    collect() {
      this.set(state.serving?.live.current.stats.belowMaximum ?? 0);
    },
  });
  new Gauge({
    name: "memserve_snapshot_generation",
    help: "Snapshots served so far: 1 at startup, +1 per swap (upgrade batch or reload)",
    registers: [registry],
    collect() {
      this.set(state.serving?.live.generation ?? 0);
    },
  });
  new Gauge({
    name: "memserve_snapshot_age_seconds",
    help: "Seconds since the snapshot being served was swapped in",
    registers: [registry],
    collect() {
      const live = state.serving?.live;
      this.set(live === undefined ? 0 : (performance.now() - live.swappedAt) / 1000);
    },
  });
  new Counter({
    name: "memserve_reloads_total",
    help: "Reloads, by result: swapped, unchanged, postponed (files still changing) or failed",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.reset();
      const results: Record<string, number> = state.serving?.live.reloadResults ?? {};
      for (const [result, count] of Object.entries(results)) this.inc({ result }, count);
    },
  });
  const builds = new Histogram({
    name: "memserve_build_duration_seconds",
    help: "Time to build a snapshot: startup (phase one), upgrade (to maximum) or reload",
    labelNames: ["kind"],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return { registry, builds };
}

/**
 * The admin server, on 127.0.0.1 unless `host` says otherwise (a Kubernetes probe comes to the
 * pod's address): /healthz (alive), /readyz (serving and not draining), /metrics. Started before
 * the site loads, so a liveness probe passes during a long build.
 *
 * @throws Error when the port cannot be bound.
 */
export function startAdmin(port: number, state: AdminState, host = "127.0.0.1"): AdminServer {
  const { registry, builds } = createRegistry(state);
  const text = (body: string, status = 200) =>
    new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
  const server = Bun.serve({
    hostname: host,
    port,
    // Explicit: a second memserve must not silently share (and split) the admin port.
    reusePort: false,
    development: false,
    async fetch(request) {
      let pathname: string;
      try {
        ({ pathname } = new URL(request.url));
      } catch {
        // Bun builds the URL from Host: a request without a usable one (HTTP/1.0) lands here.
        return text("bad request: send Host\n", 400);
      }
      if (pathname === "/healthz") return text("ok\n");
      if (pathname === "/readyz") {
        if (state.draining) return text("draining\n", 503);
        return state.serving === undefined ? text("loading\n", 503) : text("ready\n");
      }
      if (pathname === "/metrics") {
        return new Response(await registry.metrics(), {
          headers: { "content-type": registry.contentType },
        });
      }
      return text("not found: /healthz, /readyz, /metrics\n", 404);
    },
  });
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    observeBuild: (kind, seconds) => builds.observe({ kind }, seconds),
    stop: () => void server.stop(true),
  };
}
