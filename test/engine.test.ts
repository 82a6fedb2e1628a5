/**
 * The HTTP/1.1 engine (src/server/engine.ts) over raw loopback sockets: limits, timeouts,
 * pipelining, persistence, slow readers, graceful stop, Date and HEAD — what fetch would hide.
 * Each runs twice: bodies written, and bodies sent by sendfile from a mapped image.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { DEFAULT_HANDLER_OPTIONS } from "../src/http/handler.ts";
import { type RunningServer, type ServerOptions, startServer } from "../src/server/start-server.ts";
import {
  createFixtureSite,
  engineOptions,
  INDEX_HTML,
  noise,
  startTestServer,
  type TestServer,
} from "./support/fixture.ts";
import { parseResponses, type RawResponse, rawGet, rawRequest } from "./support/raw-http.ts";
import { connectTo, tlsUntilStopped } from "./support/tls.ts";

const BIG_PATH = "/media/big.mp4";
const BIG = noise(7 * 1024 * 1024, 7);
const PNG_PATH = "/img/photo.png";

describe.each(["http1", "sendfile", "tls"] as const)("%s engine", (engine) => {
  let site: ReturnType<typeof createFixtureSite>;
  let t: TestServer;
  /** Servers and clients a test started; stopped and destroyed after each test. */
  const servers: RunningServer[] = [];
  const clients: RawClient[] = [];

  beforeAll(async () => {
    site = createFixtureSite({ "media/big.mp4": BIG });
    t = await startTestServer(site.root, { engine });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(servers.splice(0).map((server) => server.stop(200)));
  });
  afterAll(async () => {
    await t.server.stop(1000);
    site.cleanup();
  });

  /** Another http1 server on the same snapshot, with the given engine options. */
  function startEngine(options: Partial<ServerOptions> = {}): RunningServer {
    const server = startServer(t.snapshot, {
      port: 0,
      host: "127.0.0.1",
      ...engineOptions(engine),
      handler: DEFAULT_HANDLER_OPTIONS,
      ...options,
    });
    const served = engine === "tls" ? tlsUntilStopped(server) : server;
    servers.push(served);
    return served;
  }

  /** The file's bytes as stored in the fixture site. */
  const fileBytes = (path: string): Buffer => readFileSync(join(site.root, path));

  const sameBytes = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
    a !== undefined && Buffer.from(a).equals(Buffer.from(b));

  /** A loopback client that records every byte and when the server closed the connection. */
  class RawClient {
    private readonly chunks: Buffer[] = [];
    received = 0;
    closed = false;
    closedAt = 0;

    private constructor(readonly socket: Socket) {
      socket.on("data", (chunk: Buffer) => {
        this.chunks.push(chunk);
        this.received += chunk.length;
      });
      // Writes racing the server's close fail with EPIPE/ECONNRESET; the test looks at `closed`.
      socket.on("error", () => {});
      socket.on("close", () => {
        this.closed = true;
        this.closedAt = performance.now();
      });
    }

    static open(port: number): Promise<RawClient> {
      return new Promise((resolve, reject) => {
        const socket = connectTo("127.0.0.1", port);
        socket.once("error", reject);
        socket.once("connect", () => {
          socket.off("error", reject);
          const client = new RawClient(socket);
          clients.push(client);
          resolve(client);
        });
      });
    }

    write(data: string): void {
      if (!this.closed && this.socket.writable) this.socket.write(data, "latin1");
    }

    bytes(): Buffer {
      return Buffer.concat(this.chunks);
    }

    text(): string {
      return this.bytes().toString("latin1");
    }

    /** The responses received so far, or undefined while the last one is still incomplete. */
    responses(bodiless: (index: number) => boolean = () => false): RawResponse[] | undefined {
      try {
        return parseResponses(this.bytes(), { bodiless });
      } catch {
        return undefined;
      }
    }

    destroy(): void {
      this.socket.destroy();
    }
  }

  /** Polls `condition` every 5 ms for at most `timeoutMs`; true when it held. */
  async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (performance.now() > deadline) return false;
      await Bun.sleep(5);
    }
    return true;
  }

  /** A request head; `Connection: close` when `close`. */
  const request = (method: string, path: string, close = false, extra = ""): string =>
    `${method} ${path} HTTP/1.1\r\nHost: x\r\n${extra}${close ? "Connection: close\r\n" : ""}\r\n`;

  async function expectStillServing(port: number): Promise<void> {
    const response = await rawGet(port, "/index.html");
    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(response.body)).toBe(INDEX_HTML);
  }

  const dateLines = (response: RawResponse): string[] =>
    response.rawHead.split("\r\n").filter((line) => /^date:/i.test(line));

  describe("limits: the right status, then the connection closes; others are still served", () => {
    const manyFields = Array.from({ length: 100 }, (_, i) => `X-Field-${i}: ${i}\r\n`).join("");
    test.each([
      ["414 for a 10 KB target", `GET /${"a".repeat(10 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
      [
        "431 for a 20 KB header",
        request("GET", "/", false, `X-Big: ${"b".repeat(20480)}\r\n`),
        431,
      ],
      ["431 for 101 header fields", request("GET", "/", false, manyFields), 431],
      [
        "413 for Content-Length: 5 on a GET",
        `${request("GET", "/", false, "Content-Length: 5\r\n")}hello`,
        413,
      ],
      [
        "501 for Transfer-Encoding: chunked",
        `${request("GET", "/", false, "Transfer-Encoding: chunked\r\n")}5\r\nhello\r\n0\r\n\r\n`,
        501,
      ],
      ["400 for a missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400],
      ["505 for HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
    ])("%s", async (_, raw, status) => {
      const started = performance.now();
      const bytes = await rawRequest(t.port, raw, { timeoutMs: 3000 });
      // Resolved by the server's close, well before the client's own timeout.
      expect(performance.now() - started).toBeLessThan(1500);
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([status]);
      const [response] = responses;
      expect(response?.headers.get("connection")).toBe("close");
      expect(response?.headers.get("content-length")).toBe(`${response?.body.length}`);
      expect(response ? dateLines(response) : []).toHaveLength(1);
      await expectStillServing(t.port);
    });

    test("a bad request on one connection does not disturb a keep-alive connection", async () => {
      const client = await RawClient.open(t.port);
      client.write(request("GET", "/css/site.css"));
      expect(await waitUntil(() => client.responses()?.length === 1, 2000)).toBe(true);
      await rawRequest(t.port, "GET / HTTP/2.0\r\nHost: x\r\n\r\n", { timeoutMs: 2000 });
      client.write(request("GET", "/empty.txt"));
      expect(await waitUntil(() => client.responses()?.length === 2, 2000)).toBe(true);
      expect(client.responses()?.map((r) => r.status)).toEqual([200, 200]);
      expect(client.closed).toBe(false);
    });
  });

  describe("a method with content (POST, PUT): 405 as nginx answers it", () => {
    test("a small body is read and dropped; the connection goes on with the next request", async () => {
      const raw = `${request("POST", "/form", false, "Content-Length: 11\r\n")}hello=world${request("GET", "/empty.txt", true)}`;
      const responses = parseResponses(await rawRequest(t.port, raw, { timeoutMs: 3000 }));
      expect(responses.map((r) => r.status)).toEqual([405, 200]);
      expect(responses[0]?.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(responses[0]?.headers.get("connection")).toBeUndefined();
    });

    test("a body arriving in pieces after its head is dropped before the next request", async () => {
      const client = await RawClient.open(t.port);
      clients.push(client);
      client.write(request("PUT", "/a", false, "Content-Length: 10\r\n"));
      expect(await waitUntil(() => client.responses()?.length === 1, 2000)).toBe(true);
      client.write("01234");
      await Bun.sleep(30);
      client.write(`56789${request("GET", "/empty.txt")}`);
      expect(await waitUntil(() => client.responses()?.length === 2, 2000)).toBe(true);
      expect(client.responses()?.map((r) => r.status)).toEqual([405, 200]);
      expect(client.closed).toBe(false);
    });

    test.each([
      ["a body over 64 KiB", "Content-Length: 1000000\r\n"],
      ["a chunked body", "Transfer-Encoding: chunked\r\n"],
    ])("%s: 405, then the connection closes", async (_, field) => {
      const bytes = await rawRequest(t.port, `${request("POST", "/", false, field)}abc`, {
        timeoutMs: 3000,
      });
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([405]);
      expect(responses[0]?.headers.get("connection")).toBe("close");
      await expectStillServing(t.port);
    });

    test("Content-Length with Transfer-Encoding is refused as a smuggling attempt (400)", async () => {
      const raw = request(
        "POST",
        "/",
        false,
        "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
      );
      const responses = parseResponses(await rawRequest(t.port, `${raw}abc`, { timeoutMs: 3000 }));
      expect(responses.map((r) => r.status)).toEqual([400]);
    });
  });

  describe("maximum connections", () => {
    test("one connection over --max-connections is answered 503 and closed; a freed slot serves again", async () => {
      const server = startEngine({ maxConnections: 2 });
      const held = [await RawClient.open(server.port), await RawClient.open(server.port)];
      clients.push(...held);
      // The engine counts a connection once it is open on its side.
      await Bun.sleep(50);
      const refused = parseResponses(
        await rawRequest(server.port, request("GET", "/"), { timeoutMs: 2000 }),
      );
      expect(refused.map((r) => r.status)).toEqual([503]);
      expect(refused[0]?.headers.get("connection")).toBe("close");
      held[0]?.destroy();
      await Bun.sleep(50);
      const served = parseResponses(
        await rawRequest(server.port, request("GET", "/", true), { timeoutMs: 2000 }),
      );
      expect(served.map((r) => r.status)).toEqual([200]);
    });
  });

  describe("timeouts", () => {
    test("slowloris: one header byte every 200 ms gets 408 (or a close) after the header timeout, while others are served at once", async () => {
      const server = startEngine({ headerTimeoutMs: 1000 });
      const slow = await RawClient.open(server.port);
      const started = performance.now();
      slow.write("GET / HTTP/1.1\r\nHost: x\r\n");
      const trickle = `X-Slow: ${"a".repeat(50)}`;
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < trickle.length) slow.write(trickle.charAt(sent++));
      }, 200);
      try {
        await Bun.sleep(500);
        const before = performance.now();
        const response = await rawGet(server.port, "/css/site.css");
        expect(response.status).toBe(200);
        expect(performance.now() - before).toBeLessThan(100);

        expect(await waitUntil(() => slow.closed, 2500)).toBe(true);
        const elapsed = slow.closedAt - started;
        expect(elapsed).toBeGreaterThan(900);
        expect(elapsed).toBeLessThan(1500);
        const text = slow.text();
        if (text !== "") expect(text).toStartWith("HTTP/1.1 408 Request Timeout\r\n");
      } finally {
        clearInterval(timer);
      }
      await expectStillServing(server.port);
    });

    test("half a head and then silence: closed after about the header timeout", async () => {
      const server = startEngine({ headerTimeoutMs: 1000 });
      const client = await RawClient.open(server.port);
      const started = performance.now();
      client.write("GET /index.html HTTP/1.1\r\nHo");
      expect(await waitUntil(() => client.closed, 3000)).toBe(true);
      const elapsed = client.closedAt - started;
      expect(elapsed).toBeGreaterThan(900);
      expect(elapsed).toBeLessThan(1500);
      const text = client.text();
      if (text !== "") expect(text).toStartWith("HTTP/1.1 408 Request Timeout\r\n");
    });

    test("an idle keep-alive connection is closed after idleTimeoutS; a busy one is not", async () => {
      const server = startEngine({ idleTimeoutS: 1 });
      const busy = await RawClient.open(server.port);
      const idle = await RawClient.open(server.port);
      idle.write(request("GET", "/empty.txt"));
      expect(await waitUntil(() => idle.responses()?.length === 1, 1000)).toBe(true);
      const answeredAt = performance.now();
      // The busy connection sends a request every 300 ms: never 1 s without activity.
      for (let i = 1; i <= 5; i++) {
        busy.write(request("GET", "/empty.txt"));
        expect(await waitUntil(() => busy.responses()?.length === i, 1000)).toBe(true);
        await Bun.sleep(300);
      }
      expect(await waitUntil(() => idle.closed, 2000)).toBe(true);
      const idleFor = idle.closedAt - answeredAt;
      expect(idleFor).toBeGreaterThan(900);
      expect(idleFor).toBeLessThan(1500);
      expect(busy.closed).toBe(false);
      expect(busy.responses()?.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    });
  });

  describe("persistence and pipelining (RFC 9112 §9)", () => {
    test("20 pipelined requests in one write get 20 responses, in order", async () => {
      const plan: { method: string; path: string; status: number; file?: string }[] = [];
      const cycle = [
        { method: "GET", path: "/index.html", status: 200, file: "index.html" },
        { method: "GET", path: PNG_PATH, status: 200, file: "img/photo.png" },
        { method: "GET", path: "/no-such-file.txt", status: 404, file: "404.html" },
        { method: "HEAD", path: "/css/site.css", status: 200 },
        {
          method: "GET",
          path: "/assets/app.3f9a1c2b.js",
          status: 200,
          file: "assets/app.3f9a1c2b.js",
        },
        { method: "GET", path: "/empty.txt", status: 200, file: "empty.txt" },
        { method: "GET", path: "/docs", status: 301 },
      ];
      for (let i = 0; i < 20; i++) plan.push(cycle[i % cycle.length] as (typeof cycle)[number]);
      const raw = plan.map((r, i) => request(r.method, r.path, i === plan.length - 1)).join("");

      const bytes = await rawRequest(t.port, raw, { timeoutMs: 5000 });
      const responses = parseResponses(bytes, { bodiless: (i) => plan[i]?.method === "HEAD" });
      expect(responses.map((r) => r.status)).toEqual(plan.map((r) => r.status));
      plan.forEach((step, i) => {
        const response = responses[i];
        if (step.file !== undefined)
          expect(sameBytes(response?.body, fileBytes(step.file))).toBe(true);
        else expect(response?.body.length).toBe(0);
      });
      expect(responses.at(-1)?.headers.get("connection")).toBe("close");
      expect(responses.slice(0, -1).every((r) => !r.headers.has("connection"))).toBe(true);
    });

    test("requests pipelined after `Connection: close` are not answered; the connection closes (§9.6)", async () => {
      const raw =
        request("GET", "/index.html") +
        request("GET", "/css/site.css", true) +
        request("GET", "/index.html") +
        request("GET", "/empty.txt");
      const started = performance.now();
      const bytes = await rawRequest(t.port, raw, { timeoutMs: 3000 });
      expect(performance.now() - started).toBeLessThan(1500);
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      expect(responses[0]?.headers.has("connection")).toBe(false);
      expect(responses[1]?.headers.get("connection")).toBe("close");
      expect(sameBytes(responses[1]?.body, fileBytes("css/site.css"))).toBe(true);
    });

    test("the same after a large `Connection: close` response that had to be queued", async () => {
      const raw = request("GET", PNG_PATH, true) + request("GET", "/index.html");
      const bytes = await rawRequest(t.port, raw, { timeoutMs: 3000 });
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([200]);
      expect(responses[0]?.headers.get("connection")).toBe("close");
      expect(sameBytes(responses[0]?.body, fileBytes("img/photo.png"))).toBe(true);
    });

    test("HTTP/1.0: answered, then the connection closes", async () => {
      const started = performance.now();
      const bytes = await rawRequest(t.port, "GET /index.html HTTP/1.0\r\n\r\n", {
        timeoutMs: 3000,
      });
      expect(performance.now() - started).toBeLessThan(1500);
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([200]);
      expect(new TextDecoder().decode(responses[0]?.body)).toBe(INDEX_HTML);
    });

    test("HTTP/1.0 with keep-alive: answered, then closed (1.0 connections do not persist)", async () => {
      const raw =
        "GET /empty.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
        "GET /index.html HTTP/1.0\r\n\r\n";
      const started = performance.now();
      const bytes = await rawRequest(t.port, raw, { timeoutMs: 3000 });
      expect(performance.now() - started).toBeLessThan(1500);
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([200]);
      expect(responses[0]?.headers.get("connection")).toBeUndefined();
    });
  });

  describe("slow readers and graceful stop", () => {
    test("a client that stops reading gets both bodies complete and byte-exact once it resumes", async () => {
      const client = await RawClient.open(t.port);
      client.socket.pause();
      client.write(request("GET", PNG_PATH) + request("GET", BIG_PATH, true));
      await Bun.sleep(300);
      expect(client.received).toBe(0);
      client.socket.resume();
      expect(await waitUntil(() => client.closed, 5000)).toBe(true);
      const responses = parseResponses(client.bytes());
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      expect(sameBytes(responses[0]?.body, fileBytes("img/photo.png"))).toBe(true);
      expect(responses[1]?.body.length).toBe(BIG.length);
      expect(sameBytes(responses[1]?.body, BIG)).toBe(true);
    });

    test("stop: refuses new connections, lets the in-flight download finish intact, then resolves", async () => {
      const server = startEngine();
      const port = server.port;
      const client = await RawClient.open(port);
      client.socket.pause();
      client.write(request("GET", BIG_PATH));
      await Bun.sleep(100);

      let stoppedAt = 0;
      const stopping = server.stop(5000).then(() => {
        stoppedAt = performance.now();
      });
      servers.splice(servers.indexOf(server), 1);
      await Bun.sleep(20);
      await expect(rawRequest(port, request("GET", "/index.html", true))).rejects.toThrow();
      expect(stoppedAt).toBe(0);

      client.socket.resume();
      expect(await waitUntil(() => client.closed, 5000)).toBe(true);
      await stopping;
      expect(stoppedAt).toBeGreaterThanOrEqual(client.closedAt - 50);
      const responses = parseResponses(client.bytes());
      expect(responses.map((r) => r.status)).toEqual([200]);
      expect(sameBytes(responses[0]?.body, BIG)).toBe(true);
    });

    test("stop with a short timeout cuts a client that never reads", async () => {
      const server = startEngine();
      const client = await RawClient.open(server.port);
      client.socket.pause();
      client.write(request("GET", BIG_PATH));
      await Bun.sleep(100);
      servers.splice(servers.indexOf(server), 1);
      const started = performance.now();
      await server.stop(200);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(500);
      client.socket.resume();
      expect(await waitUntil(() => client.closed, 2000)).toBe(true);
      expect(client.received).toBeLessThan(BIG.length);
    });
  });

  describe("Date (RFC 9110 §6.6.1)", () => {
    /** Pipelines keep-alive requests (the prepared fast path) and a final closing one. */
    async function keepAlive(...requests: string[]): Promise<RawResponse[]> {
      const bytes = await rawRequest(
        t.port,
        requests.join("") + request("GET", "/empty.txt", true),
      );
      const responses = parseResponses(bytes);
      expect(responses).toHaveLength(requests.length + 1);
      return responses.slice(0, -1);
    }

    const etagOf = async (path: string): Promise<string> =>
      (await rawGet(t.port, path)).headers.get("etag") ?? "";

    test("exactly one Date, close to now, on 200, 304, 404 and 206 (keep-alive and close)", async () => {
      const etag = await etagOf("/css/site.css");
      const cases: [string, number][] = [
        [request("GET", "/css/site.css"), 200],
        [request("GET", PNG_PATH), 200],
        [request("GET", "/css/site.css", false, `If-None-Match: ${etag}\r\n`), 304],
        [request("GET", "/no-such-file.txt"), 404],
        [request("GET", "/css/site.css", false, "Range: bytes=0-9\r\n"), 206],
      ];
      const kept = await keepAlive(...cases.map(([raw]) => raw));
      const closed = await Promise.all(
        cases.map(async ([raw]) => {
          const bytes = await rawRequest(
            t.port,
            raw.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
          );
          return parseResponses(bytes)[0];
        }),
      );
      for (const responses of [kept, closed]) {
        expect(responses.map((r) => r?.status)).toEqual(cases.map(([, status]) => status));
        for (const response of responses) {
          if (response === undefined) throw new Error("missing response");
          const lines = dateLines(response);
          expect(lines).toHaveLength(1);
          const date = Date.parse(response.headers.get("date") ?? "");
          expect(Math.abs(date - Date.now())).toBeLessThan(3000);
        }
      }
    });

    test("prepared 200 and 304 heads get a new Date when the second changes", async () => {
      const etag = await etagOf("/index.html");
      const ok = request("GET", "/index.html");
      const notModified = request("GET", "/index.html", false, `If-None-Match: ${etag}\r\n`);
      const first = await keepAlive(ok, notModified);
      await Bun.sleep(1100);
      const second = await keepAlive(ok, notModified);
      expect(second.map((r) => r.status)).toEqual([200, 304]);
      for (let i = 0; i < 2; i++) {
        const before = Date.parse(first[i]?.headers.get("date") ?? "");
        const after = Date.parse(second[i]?.headers.get("date") ?? "");
        expect(after - before).toBeGreaterThanOrEqual(1000);
        expect(dateLines(second[i] as RawResponse)).toHaveLength(1);
      }
      expect(new TextDecoder().decode(second[0]?.body)).toBe(INDEX_HTML);
    });
  });

  describe("HEAD (RFC 9110 §9.3.2): the same headers as GET, no body", () => {
    const withoutDate = (response: RawResponse | undefined) =>
      [...(response?.headers ?? [])].filter(([name]) => name !== "date");

    test.each([
      ["/index.html", 200],
      [PNG_PATH, 200],
      ["/no-such-file.txt", 404],
      ["/docs", 301],
    ])("%s (%d), on a keep-alive connection", async (path, status) => {
      // HEAD then GET /empty.txt: a stray body after the HEAD would break the second response.
      const raw = request("GET", path) + request("HEAD", path) + request("GET", "/empty.txt", true);
      const bytes = await rawRequest(t.port, raw);
      const responses = parseResponses(bytes, { bodiless: (i) => i === 1 });
      expect(responses.map((r) => r.status)).toEqual([status, status, 200]);
      const [get, head, last] = responses;
      expect(withoutDate(head)).toEqual(withoutDate(get));
      expect(head?.body.length).toBe(0);
      expect(last?.headers.get("content-length")).toBe("0");
      expect(last?.body.length).toBe(0);
    });

    test.each([
      ["/index.html", 200],
      [PNG_PATH, 200],
      ["/no-such-file.txt", 404],
      ["/docs", 301],
    ])("%s (%d), with Connection: close", async (path, status) => {
      const getBytes = await rawRequest(t.port, request("GET", path, true));
      const headBytes = await rawRequest(t.port, request("HEAD", path, true));
      const [get] = parseResponses(getBytes);
      const [head] = parseResponses(headBytes, { bodiless: () => true });
      expect(get?.status).toBe(status);
      expect(head?.status).toBe(status);
      expect(withoutDate(head)).toEqual(withoutDate(get));
      // Nothing after the empty line that ends the head.
      expect(headBytes.length).toBe((head?.rawHead.length ?? 0) + 4);
    });
  });
});
