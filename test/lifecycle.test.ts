/**
 * Stopping and restarting real memserve processes: a download in progress at SIGTERM completes,
 * new connections are refused after it, and a new process started on the same port (--reuse-port)
 * before the old one stops takes over without a single failed request.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { type CliRun, freePort, startCli } from "./support/cli.ts";
import { createFixtureSite, noise } from "./support/fixture.ts";
import { canMigrate, withMigration } from "./support/migrate.ts";
import { rawGet } from "./support/raw-http.ts";

const BIG = noise(7 * 1024 * 1024);
let site: ReturnType<typeof createFixtureSite>;
beforeAll(() => {
  site = createFixtureSite({ "big.bin": BIG });
});
afterAll(() => site.cleanup());

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const portOf = (run: CliRun) => Number(new URL(run.url).port);

/** Connects, or resolves with the error code (ECONNREFUSED) when nothing listens. */
function tryConnect(port: number): Promise<Socket | string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

const startWithTimeout = (seconds: number) =>
  startCli([site.root, "--port", "0", "--no-cache-dir", "--shutdown-timeout", String(seconds)]);

describe("graceful shutdown (SIGTERM)", () => {
  test("a 7 MB download in progress completes intact; new connections are refused; exit 0", async () => {
    const run = await startWithTimeout(10);
    const port = portOf(run);
    const socket = (await tryConnect(port)) as Socket;
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      // A slow client: it stops reading at its first bytes, so most of the body is still to send
      // when the signal comes (pausing after a poll instead let a client scheduled late under the
      // full suite's load read all 7 MB first).
      if (received === 0) socket.pause();
      chunks.push(chunk);
      received += chunk.length;
    });
    const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n");
    while (received === 0) await Bun.sleep(5);
    run.child.kill("SIGTERM");
    await Bun.sleep(300);
    expect(await tryConnect(port)).toBe("ECONNREFUSED");
    expect(received).toBeLessThan(BIG.length);
    socket.resume();
    await ended;
    const response = Buffer.concat(chunks);
    const headEnd = response.indexOf("\r\n\r\n") + 4;
    expect(response.subarray(0, headEnd).toString()).toContain("HTTP/1.1 200 OK");
    const body = response.subarray(headEnd);
    expect(body.length).toBe(BIG.length);
    expect(sha256(body)).toBe(sha256(BIG));
    expect(await run.exited).toBe(0);
  }, 30_000);

  // Repeated and group signals, and a parent's death: test/process-model.test.ts.
});

describe("zero-downtime restart (--reuse-port)", () => {
  interface Load {
    readonly counts: { sent: number; failed: number; old: number; new: number };
    readonly failures: string[];
    stop(): Promise<void>;
  }

  /** Clients in a loop until stopped (at most 30 s), counting answers by the X-Instance header. */
  function startLoad(port: number, clients: readonly ("keep-alive" | "new connection")[]): Load {
    const counts = { sent: 0, failed: 0, old: 0, new: 0 };
    const failures: string[] = [];
    let running = true;
    const deadline = Date.now() + 30_000;
    // fetch keeps connections alive and reuses them; rawGet opens one per request.
    const get = async (kind: string): Promise<string | null> => {
      if (kind === "new connection") {
        const res = await rawGet(port, "/index.html");
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        return res.headers.get("x-instance") ?? null;
      }
      const res = await fetch(`http://127.0.0.1:${port}/css/site.css`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      return res.headers.get("x-instance");
    };
    const client = async (kind: string) => {
      while (running && Date.now() < deadline) {
        counts.sent++;
        try {
          const instance = await get(kind);
          if (instance === "old") counts.old++;
          if (instance === "new") counts.new++;
        } catch (error) {
          counts.failed++;
          failures.push(`${kind}: ${error}`);
        }
      }
    };
    const running$ = Promise.all(clients.map(client));
    return {
      counts,
      failures,
      stop: async () => {
        running = false;
        await running$;
      },
    };
  }

  /** Old process, load, new process on the same port, SIGTERM to the old, more load. */
  async function restartUnderLoad(clients: Parameters<typeof startLoad>[1]): Promise<Load> {
    const port = await freePort();
    const common = [site.root, "--port", String(port), "--reuse-port", "--no-cache-dir"];
    const old = await startCli([...common, "--header", "X-Instance: old"]);
    const load = startLoad(port, clients);
    await Bun.sleep(500);
    const next = await startCli([...common, "--header", "X-Instance: new"]);
    await Bun.sleep(500);
    old.child.kill("SIGTERM");
    expect(await old.exited).toBe(0);
    const newBefore = load.counts.new;
    await Bun.sleep(500);
    await load.stop();
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
    const { sent, failed } = load.counts;
    console.log(
      `restart under load (${clients.join(", ")}): ${sent} requests, ${failed} failed (${load.counts.old} answered by the old process, ${load.counts.new} by the new)`,
    );
    expect(load.counts.old).toBeGreaterThan(0);
    expect(load.counts.new).toBeGreaterThan(newBefore);
    return load;
  }

  test("keep-alive clients: zero failed requests", async () => {
    const load = await restartUnderLoad(["keep-alive", "keep-alive", "keep-alive", "keep-alive"]);
    expect(load.failures).toEqual([]);
  }, 60_000);

  // A connection still in the old listener's accept queue when it closes is reset by the kernel,
  // unless net.ipv4.tcp_migrate_req (Linux 5.14+) hands it to the new listener. Measured here
  // without it: 1 reset in about 2,500 new connections in 3 runs of 5.
  test.skipIf(!canMigrate)(
    "a new connection per request, with tcp_migrate_req=1: zero failed requests",
    async () => {
      const load = await withMigration(() =>
        restartUnderLoad(["keep-alive", "keep-alive", "new connection", "new connection"]),
      );
      expect(load.failures).toEqual([]);
    },
    60_000,
  );

  test("without --reuse-port a second memserve on the same port is an error", async () => {
    const port = String(await freePort());
    const first = await startCli([site.root, "--port", port, "--no-cache-dir"]);
    try {
      await expect(startCli([site.root, "--port", port, "--no-cache-dir"])).rejects.toThrow(
        "already in use",
      );
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  }, 30_000);
});
