import { describe, expect, test } from "bun:test";
import { ENGINES, INDEX_HTML, useFixtureServer } from "./support/fixture.ts";
import { parseResponses, rawGet, rawRequest } from "./support/raw-http.ts";
import { connectTo } from "./support/tls.ts";

describe.each(ENGINES)("%s engine", (engine) => {
  const t = useFixtureServer({ engine });

  const stillServing = async () => expect((await rawGet(t.port, "/css/site.css")).status).toBe(200);

  describe("HTTP/1.1 over a raw socket (RFC 9112)", () => {
    test("pipelined requests are answered in order", async () => {
      const request = (path: string, close = false) =>
        `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
      const bytes = await rawRequest(
        t.port,
        request("/css/site.css") + request("/empty.txt") + request("/docs/", true),
      );
      const responses = parseResponses(bytes);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(responses[1]?.headers.get("content-length")).toBe("0");
      expect(new TextDecoder().decode(responses[2]?.body)).toContain("docs");
    });

    test("a request split across several writes (partial head) is answered", async () => {
      const got = await new Promise<string>((resolve, reject) => {
        const socket = connectTo("127.0.0.1", t.port);
        let data = "";
        socket.on("data", (chunk) => {
          data += chunk.toString("latin1");
        });
        socket.on("close", () => resolve(data));
        socket.on("error", reject);
        socket.write("GET /empty.txt HT");
        setTimeout(() => socket.write("TP/1.1\r\nHost: x\r\n"), 50);
        setTimeout(() => socket.write("Connection: close\r\n\r\n"), 100);
      });
      expect(got.startsWith("HTTP/1.1 200")).toBe(true);
    });

    test.each([
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
      "\x00\x01\x02\x03\r\n\r\n",
    ])(
      "malformed request %j gets a 4xx or a close, and the server keeps answering",
      async (raw) => {
        const bytes = await rawRequest(t.port, raw, { timeoutMs: 2000 });
        const head = new TextDecoder("latin1").decode(bytes.subarray(0, 12));
        if (head !== "") expect(head).toMatch(/^HTTP\/1\.1 (4\d\d|505)/);
        await stillServing();
      },
    );

    test("a 64 KiB header is refused (431 or close), and the server keeps answering", async () => {
      const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`;
      const bytes = await rawRequest(t.port, big, { timeoutMs: 2000 });
      const head = new TextDecoder("latin1").decode(bytes.subarray(0, 12));
      if (head !== "") expect(head).toMatch(/^HTTP\/1\.1 4\d\d/);
      await stillServing();
    });

    test("absolute-form target is served as its path (RFC 9112 §3.2.2)", async () => {
      const bytes = await rawRequest(
        t.port,
        "GET http://other.example/index.html HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n",
      );
      const [res] = parseResponses(bytes);
      expect(res?.status).toBe(200);
      expect(new TextDecoder().decode(res?.body)).toBe(INDEX_HTML);
    });

    test("HTTP/1.0 request gets its answer and the connection closes", async () => {
      const bytes = await rawRequest(t.port, "GET /empty.txt HTTP/1.0\r\n\r\n", {
        timeoutMs: 2000,
      });
      const [res] = parseResponses(bytes);
      expect(res?.status).toBe(200);
    });

    test("100 concurrent requests all get the right body", async () => {
      const expected = (await rawGet(t.port, "/img/photo.png")).body;
      const all = await Promise.all(
        Array.from({ length: 100 }, () => fetch(`${t.url}/img/photo.png`).then((r) => r.bytes())),
      );
      for (const body of all) expect(Buffer.compare(body, expected)).toBe(0);
    });
  });
});
