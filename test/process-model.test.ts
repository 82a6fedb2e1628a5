/**
 * The process model over real processes: how signals (to one process or to its whole group), a
 * parent's death and a port already in use end or refuse a memserve and its workers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { type CliRun, type StartOptions, startCli } from "./support/cli.ts";
import { createFixtureSite, noise } from "./support/fixture.ts";
import {
  bodyOf,
  type Download,
  descendants,
  isAlive,
  serverPidOf,
  startDownload,
  tryConnect,
  waitFor,
} from "./support/processes.ts";
import { rawGet } from "./support/raw-http.ts";

const BIG = noise(40 * 1024 * 1024);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** With a 40 MB file for the drain tests; the small one starts faster. */
let big: ReturnType<typeof createFixtureSite>;
let small: ReturnType<typeof createFixtureSite>;
beforeAll(() => {
  big = createFixtureSite({ "big.bin": BIG });
  small = createFixtureSite();
});
afterAll(() => {
  big.cleanup();
  small.cleanup();
});

const allGone = (pids: readonly number[]) => waitFor(() => !pids.some(isAlive), 5000);

/** Whatever a test left running: stopped (and, if it does not stop, killed). */
const started: number[] = [];
afterEach(async () => {
  const pids = started.splice(0);
  for (const pid of pids) signal(pid, "SIGTERM");
  if (!(await allGone(pids))) for (const pid of pids) signal(pid, "SIGKILL");
});

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

interface Server {
  readonly run: CliRun;
  readonly port: number;
  /** The process started (the bin shim, or npm) and everything under it. */
  readonly pids: number[];
}

/** Starts memserve and waits until its `workers` processes serve. */
async function start(
  args: readonly string[],
  options: StartOptions & { workers?: number; root?: string } = {},
): Promise<Server> {
  const { workers = 1, root = small.root } = options;
  // Flags given twice: the last wins, so `args` can override these.
  const run = await startCli(
    [root, "--port", "0", "--no-cache-dir", "--workers", String(workers), ...args],
    20_000,
    options,
  );
  const top = run.child.pid as number;
  started.push(top);
  const serving = () => run.stdout().includes("serving") && descendants(top).length >= workers;
  expect(await waitFor(serving, 5000)).toBe(true);
  const pids = [top, ...descendants(top)];
  started.push(...pids);
  return { run, port: Number(new URL(run.url).port), pids };
}

/**
 * One connection accepted by each of `processes` serving processes (the kernel picks one per new
 * connection), opened by `open`; the others are closed. A process that accepts has its signal
 * handlers in place.
 */
async function onEveryProcess<T extends { socket: Socket }>(
  server: Server,
  processes: number,
  open: () => Promise<T>,
): Promise<T[]> {
  const byOwner = new Map<number, T>();
  for (let i = 0; i < 64 && byOwner.size < processes; i++) {
    const connection = await open();
    await Bun.sleep(5); // accepted by the kernel at once, by the process a moment later
    const owner = serverPidOf(connection.socket, server.pids);
    if (owner === undefined || byOwner.has(owner)) connection.socket.destroy();
    else byOwner.set(owner, connection);
  }
  expect(byOwner.size).toBe(processes);
  return [...byOwner.values()];
}

const downloadsOnEveryProcess = (server: Server, processes: number) =>
  onEveryProcess(server, processes, () => startDownload(server.port, "/big.bin"));

async function expectComplete(download: Download): Promise<void> {
  download.socket.resume();
  const body = bodyOf(await download.done);
  expect(body.length).toBe(BIG.length);
  expect(sha256(body)).toBe(sha256(BIG));
}

/** Every connection attempt is refused: no process of the group accepts any more. */
async function expectRefused(port: number): Promise<void> {
  for (let i = 0; i < 8; i++) expect(await tryConnect(port)).toBe("ECONNREFUSED");
}

describe("drain", () => {
  test("SIGTERM to the whole group (--workers 2) during 40 MB downloads: refused at once, completed byte-exact, exit 0", async () => {
    const server = await start(["--shutdown-timeout", "20"], {
      detached: true,
      workers: 2,
      root: big.root,
    });
    const downloads = await downloadsOnEveryProcess(server, 2);
    // Every process gets it directly; bun also relayed by the shim, a worker forwarded by bun.
    process.kill(-(server.run.child.pid as number), "SIGTERM");
    await Bun.sleep(300);
    await expectRefused(server.port);
    // Past the second in which the copies of the signal arrive: still draining, nothing respawned.
    await Bun.sleep(1200);
    await expectRefused(server.port);
    expect(downloads.every((d) => d.received() < BIG.length)).toBe(true);
    await Promise.all(downloads.map(expectComplete));
    expect(await server.run.exited).toBe(0);
    expect(server.run.stdout()).not.toContain("starting another");
    expect(server.run.stdout()).toContain("SIGTERM, finishing in-flight responses");
    expect(await allGone(server.pids)).toBe(true);
  }, 30_000);

  test("a signal delivered twice within a second is one: the download still completes", async () => {
    const server = await start(["--shutdown-timeout", "20"], { workers: 2, root: big.root });
    const [download] = await downloadsOnEveryProcess(server, 1);
    const primary = server.pids[1] as number;
    process.kill(primary, "SIGTERM");
    await Bun.sleep(300);
    server.run.child.kill("SIGTERM"); // relayed by the shim
    await Bun.sleep(1000);
    await expectComplete(download as Download);
    expect(await server.run.exited).toBe(0);
    expect(await allGone(server.pids)).toBe(true);
  }, 30_000);

  test("a new signal a second or more after the first exits at once, every process", async () => {
    const server = await start(["--shutdown-timeout", "60"], {
      detached: true,
      workers: 2,
      root: big.root,
    });
    const downloads = await downloadsOnEveryProcess(server, 2);
    const group = -(server.run.child.pid as number);
    process.kill(group, "SIGTERM");
    await Bun.sleep(1200);
    const second = performance.now();
    process.kill(group, "SIGTERM");
    expect(await server.run.exited).toBe(0);
    expect(await allGone(server.pids)).toBe(true);
    expect(performance.now() - second).toBeLessThan(3000);
    for (const download of downloads) {
      download.socket.resume();
      expect((await download.done).length).toBeLessThan(BIG.length);
    }
  }, 30_000);
});

describe("SIGHUP", () => {
  test("to the whole group: the primary reloads, no worker ends", async () => {
    const server = await start([], { detached: true, workers: 2 });
    const connect = async () => ({ socket: (await tryConnect(server.port)) as Socket });
    const serving = new Set<number>();
    for (const { socket } of await onEveryProcess(server, 2, connect)) {
      serving.add(serverPidOf(socket, server.pids) as number);
      socket.destroy();
    }
    process.kill(-(server.run.child.pid as number), "SIGHUP");
    expect(await waitFor(() => server.run.stdout().includes("SIGHUP, reloading"), 5000)).toBe(true);
    await Bun.sleep(500);
    expect(server.run.stdout()).not.toContain("starting another");
    expect([server.run.child.pid as number, ...serving].every(isAlive)).toBe(true);
  }, 30_000);
});

describe("no orphans", () => {
  test("SIGTERM to the wrapper (node bin/memserve.js): no memserve process remains", async () => {
    const server = await start([], { workers: 2 });
    expect(server.pids.length).toBeGreaterThanOrEqual(3);
    server.run.child.kill("SIGTERM");
    expect(await server.run.exited).toBe(0);
    expect(await allGone(server.pids)).toBe(true);
  }, 30_000);

  test("the wrapper killed with SIGKILL: the server and its workers drain and exit", async () => {
    const server = await start([], { workers: 2 });
    server.run.child.kill("SIGKILL");
    expect(await allGone(server.pids)).toBe(true);
  }, 30_000);

  const npm = Bun.which("npm");
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    // npm runs the bin through `sh -c`: SIGTERM kills that shell and npm; SIGHUP kills npm only.
    test.skipIf(npm === null)(
      `${signal} to npx memserve: no memserve process remains`,
      async () => {
        const server = await start([], { command: [npm as string, "exec", "--", "memserve"] });
        server.run.child.kill(signal);
        expect(await allGone(server.pids)).toBe(true);
        expect(server.run.stderr()).toContain("the process that started memserve is gone");
      },
      30_000,
    );
  }
});

describe("a port in use", () => {
  /** A fixed port (a port-0 memserve holds no guard: no one else can mean its port). */
  const freePort = () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    listener.stop(true);
    return listener.port;
  };
  const portOf = async () => (await start(["--port", String(freePort())], { workers: 2 })).port;
  /** Another memserve on `port`; if it does start, it is stopped after the test. */
  const second = async (port: number, args: readonly string[], env: StartOptions["env"] = {}) => {
    const run = await startCli(
      [small.root, "--port", String(port), "--no-cache-dir", ...args],
      20_000,
      {
        env,
      },
    );
    started.push(run.child.pid as number, ...descendants(run.child.pid as number));
    return run;
  };
  const MESSAGE =
    "cannot listen on 127.0.0.1:PORT: the address is already in use (start every instance with --reuse-port to share a port)";

  test("is refused with a clear message: default --workers, --workers 1, --reuse-port", async () => {
    const port = await portOf();
    const message = MESSAGE.replace("PORT", String(port));
    // The default is one worker per CPU; the test environment sets one, so unset it.
    await expect(second(port, [], { MEMSERVE_WORKERS: undefined })).rejects.toThrow(message);
    await expect(second(port, ["--workers", "1"])).rejects.toThrow(message);
    await expect(second(port, ["--workers", "2"])).rejects.toThrow(message);
    await expect(second(port, ["--reuse-port"])).rejects.toThrow(message);
    expect((await rawGet(port, "/index.html")).status).toBe(200);
  }, 60_000);

  test("is shared when every instance has --reuse-port, and refused to one without", async () => {
    const shared = ["--port", String(freePort()), "--reuse-port", "--workers", "2"];
    const first = await start([...shared, "--header", "X-Instance: first"], { workers: 2 });
    const next = await second(first.port, [...shared, "--header", "X-Instance: second"]);
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 64 && seen.size < 2; i++) {
      seen.add((await rawGet(first.port, "/index.html")).headers.get("x-instance"));
    }
    expect(seen).toEqual(new Set(["first", "second"]));
    const message = MESSAGE.replace("PORT", String(first.port));
    await expect(second(first.port, [])).rejects.toThrow(message);
    next.child.kill("SIGTERM");
    expect(await next.exited).toBe(0);
  }, 60_000);
});
