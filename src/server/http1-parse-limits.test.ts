import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { get, headOf, LIMITS, statusOf } from "./http1-parse.helpers.ts";
import { type HeadLimits, parseRequestHead } from "./http1-parse.ts";

describe("parseRequestHead: limits", () => {
  const small: HeadLimits = { maxHeadBytes: 256, maxRequestLineBytes: 64, maxHeaders: 4 };

  test("§3: a request line over maxRequestLineBytes -> 414 once the CRLF has arrived", () => {
    const target = `/${"a".repeat(64)}`;
    expect(statusOf(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, small)).toBe(414);
  });

  test("§3: a request line over maxRequestLineBytes -> 414 before its CRLF arrives", () => {
    expect(statusOf(`GET /${"a".repeat(64)}`, small)).toBe(414);
  });

  test("a request line of exactly maxRequestLineBytes is fine", () => {
    const line = `GET /${"a".repeat(64 - "GET / HTTP/1.1".length)} HTTP/1.1`;
    expect(line.length).toBe(64);
    expect(statusOf(`${line}\r\nHost: x\r\n\r\n`, small)).toBe("request");
    // And still partial without its CRLF.
    expect(statusOf(line, small)).toBe("incomplete");
  });

  test("the default limits: a 10 KB target -> 414, partial or whole", () => {
    const line = `GET /${"a".repeat(10 * 1024)} HTTP/1.1`;
    expect(statusOf(line)).toBe(414);
    expect(statusOf(`${line}\r\nHost: x\r\n\r\n`)).toBe(414);
  });

  test("a head over maxHeadBytes -> 431, complete or still arriving", () => {
    const big = `X-Big: ${"b".repeat(300)}`;
    expect(statusOf(get("/", big), small)).toBe(431);
    expect(statusOf(`GET / HTTP/1.1\r\nHost: x\r\n${big}\r\n`, small)).toBe(431);
  });

  test("the default limits: a 20 KB header -> 431", () => {
    expect(statusOf(get("/", `X-Big: ${"b".repeat(20 * 1024)}`))).toBe(431);
  });

  test("a head of exactly maxHeadBytes is fine", () => {
    const prefix = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    const pad = "p".repeat(256 - prefix.length - 4);
    const text = `${prefix}${pad}\r\n\r\n`;
    expect(text.length).toBe(256);
    expect(statusOf(text, small)).toBe("request");
    expect(statusOf(`${prefix}${pad}p\r\n\r\n`, small)).toBe(431);
  });

  test("more than maxHeaders field lines -> 431; exactly maxHeaders is fine", () => {
    expect(statusOf(get("/", "A: 1", "B: 2", "C: 3"), small)).toBe("request");
    expect(statusOf(get("/", "A: 1", "B: 2", "C: 3", "D: 4"), small)).toBe(431);
  });

  test("the default limits: 101 header fields -> 431, 100 are fine", () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: ${i}`);
    expect(statusOf(get("/", ...fields(99)))).toBe("request");
    expect(statusOf(get("/", ...fields(100)))).toBe(431);
  });
});

describe("parseRequestHead: message body framing (RFC 9112 §6)", () => {
  test("Content-Length: 0 is fine", () => {
    expect(headOf(get("/", "Content-Length: 0")).headers.get("content-length")).toBe("0");
  });

  test.each(["5", "1", "00001"])("a positive Content-Length %j -> 413", (length) => {
    expect(statusOf(get("/", `Content-Length: ${length}`))).toBe(413);
  });

  test.each(["-1", "abc", "1.5", "0x10", "5 5", "0, 1"])(
    "§6.3: an invalid Content-Length %j -> 400",
    (length) => {
      expect(statusOf(get("/", `Content-Length: ${length}`))).toBe(400);
    },
  );

  test("§6.3: two different Content-Length fields -> 400", () => {
    expect(statusOf(get("/", "Content-Length: 0", "Content-Length: 5"))).toBe(400);
  });

  test.each(["chunked", "gzip, chunked", "identity"])(
    "§6.1: Transfer-Encoding %j -> 501 (not implemented for requests)",
    (coding) => {
      expect(statusOf(get("/", `Transfer-Encoding: ${coding}`))).toBe(501);
    },
  );

  test("§6.1: Transfer-Encoding with Content-Length is refused too", () => {
    const status = statusOf(get("/", "Content-Length: 5", "Transfer-Encoding: chunked"));
    expect([400, 501] as (number | string)[]).toContain(status);
  });
});

describe("parseRequestHead: persistence (RFC 9112 §9.3)", () => {
  test.each([
    ["HTTP/1.1 without Connection", get("/"), true],
    ["HTTP/1.1 with Connection: close", get("/", "Connection: close"), false],
    ["HTTP/1.1 with Connection: CLOSE", get("/", "Connection: CLOSE"), false],
    ["HTTP/1.1 with close in a list", get("/", "Connection: Keep-Alive, Close"), false],
    [
      "HTTP/1.1 with close in a repeated field",
      get("/", "Connection: te", "Connection: close"),
      false,
    ],
    ["HTTP/1.1 with Connection: keep-alive", get("/", "Connection: keep-alive"), true],
    ["HTTP/1.1 with a token that only contains close", get("/", "Connection: closed"), true],
    ["HTTP/1.0 without Connection", "GET / HTTP/1.0\r\n\r\n", false],
    [
      "HTTP/1.0 with keep-alive (1.0 is always closed)",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      false,
    ],
    [
      "HTTP/1.0 with Keep-Alive in a list",
      "GET / HTTP/1.0\r\nConnection: TE, Keep-Alive\r\n\r\n",
      false,
    ],
    [
      "HTTP/1.0 with keep-alive and close",
      "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
      false,
    ],
  ])("%s -> keepAlive %p", (_, text, keepAlive) => {
    expect(headOf(text).keepAlive).toBe(keepAlive);
  });
});

describe("parseRequestHead: properties", () => {
  const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

  function checkInvariants(buffer: Buffer, start = 0): void {
    const result = parseRequestHead(buffer, start, LIMITS);
    if (result.kind === "request") {
      expect(result.head.method).toMatch(TOKEN);
      expect(result.head.target === "*" || result.head.target.startsWith("/")).toBe(true);
      expect(result.consumed).toBeGreaterThan(0);
      expect(start + result.consumed).toBeLessThanOrEqual(buffer.length);
      // The head ends with CRLF CRLF, right before `consumed`.
      expect(buffer.toString("latin1", start + result.consumed - 4, start + result.consumed)).toBe(
        "\r\n\r\n",
      );
    } else if (result.kind === "error") {
      expect([400, 413, 414, 431, 501, 505]).toContain(result.status);
    }
  }

  test("arbitrary bytes: never throws, and any request it finds is well formed", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        checkInvariants(Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  // Bytes that matter to the grammar, so random strings actually reach the deeper branches.
  const interesting = fc.constantFrom(
    ..."\r\n :/*?\t\x00\x7f\xff".split(""),
    "GET",
    "HEAD",
    "OPTIONS",
    "HTTP/1.1",
    "HTTP/1.0",
    "Host",
    "http://",
    "\r\n\r\n",
    "Content-Length",
    "Connection",
    "close",
  );
  const grammarish = fc
    .array(fc.oneof(interesting, fc.string({ maxLength: 4 })), { maxLength: 40 })
    .map((parts) => Buffer.from(parts.join(""), "latin1"));

  test("strings made of HTTP pieces: never throws, requests are well formed", () => {
    fc.assert(
      fc.property(grammarish, fc.nat(8), (buffer, start) => {
        checkInvariants(buffer, Math.min(start, buffer.length));
      }),
      { numRuns: 2000 },
    );
  });

  const VALID = [
    "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: br, gzip;q=0.5\r\nConnection: keep-alive\r\n\r\n",
    "HEAD http://example.com/a HTTP/1.1\r\nHost: example.com\r\nRange: bytes=0-9\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    '\r\nGET / HTTP/1.0\r\nIf-None-Match: "abc"\r\n\r\nGET /two HTTP/1.1\r\nHost: y\r\n\r\n',
  ].map((text) => Buffer.from(text, "latin1"));

  type Mutation =
    | { readonly kind: "flip"; readonly at: number; readonly byte: number }
    | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
    | { readonly kind: "delete"; readonly at: number; readonly count: number }
    | { readonly kind: "truncate"; readonly at: number };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(200), byte: fc.nat(255) }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(200),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
    fc.record({
      kind: fc.constant("delete" as const),
      at: fc.nat(200),
      count: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(200) }),
  );

  function mutate(source: Buffer, mutations: readonly Mutation[]): Buffer {
    let bytes = Buffer.from(source);
    for (const m of mutations) {
      const at = m.at % (bytes.length + 1);
      switch (m.kind) {
        case "flip":
          if (at < bytes.length) bytes[at] = m.byte;
          break;
        case "insert":
          bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
          break;
        case "delete":
          bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
          break;
        case "truncate":
          bytes = bytes.subarray(0, at);
          break;
      }
    }
    return bytes;
  }

  test("the valid heads used below parse", () => {
    for (const buffer of VALID) expect(parseRequestHead(buffer, 0, LIMITS).kind).toBe("request");
  });

  test("mutated valid heads (flips, insertions, deletions, truncations): never throws", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID),
        fc.array(mutation, { minLength: 1, maxLength: 5 }),
        (source, mutations) => {
          checkInvariants(mutate(source, mutations));
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("any prefix of a valid head is incomplete, and the whole is the request", () => {
    for (const buffer of VALID) {
      const result = parseRequestHead(buffer, 0, LIMITS);
      if (result.kind !== "request") throw new Error("valid head did not parse");
      for (let cut = 0; cut < result.consumed; cut++) {
        expect(parseRequestHead(buffer.subarray(0, cut), 0, LIMITS)).toEqual({
          kind: "incomplete",
        });
      }
    }
  });
});
