import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { parseResponses, rawGet, rawRequest } from "./raw-http.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (body: Uint8Array) => decoder.decode(body);

const CHUNKS = ["first chunk, ", "second chunk, ", "and the last one"];

let server: Server<undefined>;
let port: number;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/fixed") return new Response("hello world", { headers: { "x-twice": "a" } });
      if (path === "/chunked") {
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            for (const chunk of CHUNKS) {
              controller.enqueue(bytes(chunk));
              await Bun.sleep(5);
            }
            controller.close();
          },
        });
        return new Response(stream, { headers: { "content-type": "text/plain" } });
      }
      if (path === "/empty") return new Response(null, { status: 204 });
      if (path === "/echo") {
        const seen = [...request.headers].map(([name, value]) => `${name}=${value}`).join("\n");
        return new Response(`${request.method} ${seen}`);
      }
      return new Response("nope", { status: 404 });
    },
  });
  port = server.port ?? 0;
});

afterAll(() => server.stop(true));

describe("rawGet against a real server", () => {
  test("Content-Length body", async () => {
    const response = await rawGet(port, "/fixed");
    expect(response.status).toBe(200);
    expect(response.statusText).toBe("OK");
    expect(response.headers.get("content-length")).toBe("11");
    expect(response.headers.get("x-twice")).toBe("a");
    expect(text(response.body)).toBe("hello world");
    expect(response.rawHead.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
  });

  test("chunked body from a ReadableStream is de-chunked", async () => {
    const response = await rawGet(port, "/chunked");
    expect(response.status).toBe(200);
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
    expect(response.headers.has("content-length")).toBe(false);
    expect(text(response.body)).toBe(CHUNKS.join(""));
  });

  test("HEAD has headers but no body", async () => {
    const response = await rawGet(port, "/fixed", {}, "HEAD");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("11");
    expect(response.body.length).toBe(0);
  });

  test("204 has no body; a 404 has one", async () => {
    expect((await rawGet(port, "/empty")).status).toBe(204);
    const missing = await rawGet(port, "/missing");
    expect(missing.status).toBe(404);
    expect(missing.statusText).toBe("Not Found");
    expect(text(missing.body)).toBe("nope");
  });

  test("extra headers are sent; Host can be replaced", async () => {
    const response = await rawGet(port, "/echo", { "X-Test": "1", host: "example.test" });
    const body = text(response.body);
    expect(body).toContain("x-test=1");
    expect(body).toContain("host=example.test");
    expect(body).not.toContain("host=localhost");
  });
});

describe("rawRequest", () => {
  test("pipelined GET, HEAD, chunked GET on one connection", async () => {
    const request = [
      "GET /fixed HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "HEAD /fixed HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /chunked HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ].join("");
    const responses = parseResponses(await rawRequest(port, request), {
      bodiless: (index) => index === 1,
    });
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(responses.map((response) => text(response.body))).toEqual([
      "hello world",
      "",
      CHUNKS.join(""),
    ]);
  });

  test("closeAfterMs ends a keep-alive exchange after silence", async () => {
    const started = performance.now();
    const received = await rawRequest(port, "GET /fixed HTTP/1.1\r\nHost: localhost\r\n\r\n", {
      closeAfterMs: 100,
      timeoutMs: 5000,
    });
    expect(performance.now() - started).toBeLessThan(2000);
    const [response] = parseResponses(received);
    expect(response?.headers.get("connection")).not.toBe("close");
    expect(text(response?.body ?? new Uint8Array())).toBe("hello world");
  });

  test("timeoutMs returns what arrived when the server stays silent", async () => {
    const started = performance.now();
    // An unfinished head: the server waits for the rest and sends nothing.
    const received = await rawRequest(port, "GET /fixed HTTP/1.1\r\nHost: loc", { timeoutMs: 150 });
    expect(received.length).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("accepts bytes and rejects when nothing listens", async () => {
    const received = await rawRequest(
      port,
      bytes("GET /fixed HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    );
    expect(text(parseResponses(received)[0]?.body ?? new Uint8Array())).toBe("hello world");

    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const freePort = closed.port ?? 0;
    await closed.stop(true);
    await expect(rawRequest(freePort, "GET / HTTP/1.1\r\n\r\n")).rejects.toThrow();
  });
});

describe("parseResponses on handcrafted bytes", () => {
  test("repeated headers are joined, names lower-cased, empty reason phrase kept", () => {
    const [response] = parseResponses(
      bytes("HTTP/1.1 200\r\nSet-Cookie: a=1\r\nVary: Accept\r\nset-cookie: b=2\r\n\r\n"),
    );
    expect(response?.statusText).toBe("");
    expect(response?.headers.get("set-cookie")).toBe("a=1, b=2");
    expect(response?.headers.get("vary")).toBe("Accept");
  });

  test("chunk extensions and trailers; 304 and 1xx have no body; body to end of stream", () => {
    const stream = bytes(
      [
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n",
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: "x"\r\n\r\n',
        "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nxyz",
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
      ].join(""),
    );
    const indexes: number[] = [];
    const responses = parseResponses(stream, {
      bodiless: (index) => {
        indexes.push(index);
        return false;
      },
    });
    expect(responses.map((response) => response.status)).toEqual([100, 200, 304, 200, 200]);
    expect(responses.map((response) => text(response.body))).toEqual([
      "",
      "abc0123456789",
      "",
      "xyz",
      "until the end",
    ]);
    // The 100 and the 200 after it answer request 0; bodiless is not asked about 1xx or 304.
    expect(indexes).toEqual([0, 2, 3]);
  });

  test("bodiless responses ignore Content-Length", () => {
    const responses = parseResponses(
      bytes(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      ),
      { bodiless: (index) => index === 0 },
    );
    expect(responses.map((response) => text(response.body))).toEqual(["", "hello"]);
  });

  test("binary bodies are byte-exact", () => {
    const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
    const head = bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`);
    const stream = new Uint8Array([...head, ...payload]);
    expect(parseResponses(stream)[0]?.body).toEqual(payload);
  });

  test("malformed or truncated input throws", () => {
    expect(() =>
      parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort")),
    ).toThrow(/truncated body/);
    expect(() => parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1"))).toThrow(
      /incomplete response head/,
    );
    expect(() => parseResponses(bytes("SMTP ready\r\n\r\n"))).toThrow(/bad status line/);
    expect(() =>
      parseResponses(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")),
    ).toThrow(/bad chunk size/);
    expect(() =>
      parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab")),
    ).toThrow(/bad Content-Length/);
    expect(parseResponses(new Uint8Array())).toEqual([]);
  });
});
