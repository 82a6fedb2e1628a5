import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  type ParseResult,
  parseRequestHead,
  type RequestHead,
} from "./http1-parse.ts";

const LIMITS: HeadLimits = DEFAULT_HEAD_LIMITS;

function parse(text: string | Uint8Array, start = 0, limits: HeadLimits = LIMITS): ParseResult {
  const buffer = typeof text === "string" ? Buffer.from(text, "latin1") : Buffer.from(text);
  return parseRequestHead(buffer, start, limits);
}

/** The head of a successful parse; fails the test otherwise. */
function headOf(text: string, limits: HeadLimits = LIMITS): RequestHead {
  const result = parse(text, 0, limits);
  if (result.kind !== "request")
    throw new Error(`expected a request, got ${JSON.stringify(result)}`);
  return result.head;
}

function statusOf(text: string, limits: HeadLimits = LIMITS): number | string {
  const result = parse(text, 0, limits);
  return result.kind === "error" ? result.status : result.kind;
}

/** `GET <target> HTTP/1.1` with Host and the given extra field lines. */
const get = (target = "/", ...fields: string[]) =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n`;

describe("parseRequestHead: request line (RFC 9112 §3)", () => {
  test("a simple GET -> method, target, consumed = the whole head", () => {
    const text = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const result = parse(text);
    expect(result.kind).toBe("request");
    if (result.kind !== "request") return;
    expect(result.head.method).toBe("GET");
    expect(result.head.target).toBe("/a");
    expect(result.head.http10).toBe(false);
    expect(result.head.keepAlive).toBe(true);
    expect(result.head.headers.get("host")).toBe("x");
    expect(result.consumed).toBe(text.length);
  });

  test("HEAD -> method HEAD, query kept in the target", () => {
    const head = headOf("HEAD /dir/file.txt?x=1&y HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(head.method).toBe("HEAD");
    expect(head.target).toBe("/dir/file.txt?x=1&y");
  });

  test("§2.2: empty lines before the request line are ignored and counted in consumed", () => {
    const text = `\r\n\r\n${get("/a")}`;
    const result = parse(text);
    expect(result.kind).toBe("request");
    if (result.kind !== "request") return;
    expect(result.head.target).toBe("/a");
    expect(result.consumed).toBe(text.length);
  });

  test.each([
    "",
    "G",
    "GET / HTTP/1.1",
    "GET / HTTP/1.1\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\n\r",
    "\r\n",
  ])("a partial head %j -> incomplete", (text) => {
    expect(parse(text)).toEqual({ kind: "incomplete" });
  });

  test("two pipelined heads in one buffer: consumed is the offset of the second", () => {
    const first = get("/one");
    const second = "HEAD /two HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n";
    const buffer = Buffer.from(first + second, "latin1");
    const a = parseRequestHead(buffer, 0, LIMITS);
    expect(a.kind).toBe("request");
    if (a.kind !== "request") return;
    expect(a.head.target).toBe("/one");
    expect(a.consumed).toBe(first.length);
    const b = parseRequestHead(buffer, a.consumed, LIMITS);
    expect(b.kind).toBe("request");
    if (b.kind !== "request") return;
    expect(b.head.method).toBe("HEAD");
    expect(b.head.target).toBe("/two");
    expect(b.head.headers.get("host")).toBe("y");
    expect(b.head.keepAlive).toBe(false);
    expect(a.consumed + b.consumed).toBe(buffer.length);
  });

  test("a second head that is still partial -> incomplete from its offset", () => {
    const first = get("/one");
    const buffer = Buffer.from(`${first}GET /two HTTP/1.1\r\nHo`, "latin1");
    const a = parseRequestHead(buffer, 0, LIMITS);
    expect(a.kind === "request" && a.consumed).toBe(first.length);
    expect(parseRequestHead(buffer, first.length, LIMITS)).toEqual({ kind: "incomplete" });
  });

  test.each([
    ["http://example.com/a/b?q=1", "/a/b?q=1"],
    ["HTTPS://Example.COM:8443/x", "/x"],
    ["http://example.com", "/"],
    ["http://example.com?q", "/?q"],
  ])("§3.2.2: absolute-form %j is reduced to its path %j", (target, expected) => {
    expect(headOf(`GET ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`).target).toBe(expected);
  });

  test("§3.2.2: an absolute-form target with another scheme -> 400", () => {
    expect(statusOf(get("ftp://example.com/a"))).toBe(400);
  });

  test("§3.2.4: asterisk-form `OPTIONS *` is allowed", () => {
    const head = headOf("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(head.method).toBe("OPTIONS");
    expect(head.target).toBe("*");
  });

  test("§3.2.4: `GET *` -> 400 (asterisk-form is only for OPTIONS)", () => {
    expect(statusOf(get("*"))).toBe(400);
  });

  test.each([
    ["a space in the target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a tab in the target", "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["non-ASCII in the target", "GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a control in the target", "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["NUL in the target", "GET /a\x00 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["DEL in the target", "GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a relative target", "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["two spaces after the method", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["no version", "GET /\r\nHost: x\r\n\r\n"],
    ["a trailing space", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n"],
  ])("§3.2: %s -> 400", (_, text) => {
    expect(statusOf(text)).toBe(400);
  });

  test.each(["G(T", "GE T", "GET\x00", "G\xe9T", "G:T", ""])(
    "§3.1: method %j is not a token -> 400",
    (method) => {
      expect(statusOf(`${method} / HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe(400);
    },
  );

  test.each(["PURGE", "M-SEARCH", "x!#$%&'*+.^_`|~"])(
    "§3.1: method %j is a token -> parsed (the handler answers 405)",
    (method) => {
      expect(headOf(`${method} / HTTP/1.1\r\nHost: x\r\n\r\n`).method).toBe(method);
    },
  );

  test.each(["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0"])(
    "§2.3: version %s -> 505",
    (version) => {
      expect(statusOf(`GET / ${version}\r\nHost: x\r\n\r\n`)).toBe(505);
    },
  );

  test.each(["HTTX/1.1", "http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1.1x"])(
    "§2.3: version %j is not HTTP-version syntax -> 400",
    (version) => {
      expect(statusOf(`GET / ${version}\r\nHost: x\r\n\r\n`)).toBe(400);
    },
  );
});

describe("parseRequestHead: header fields (RFC 9112 §5, RFC 9110 §5)", () => {
  test("names are looked up in lower case; values lose surrounding whitespace", () => {
    const head = headOf(get("/", "Accept-Encoding: \t gzip, br \t", "X-EMPTY:", "X-Tight:v"));
    expect(head.headers.get("accept-encoding")).toBe("gzip, br");
    expect(head.headers.get("Accept-Encoding")).toBeNull();
    expect(head.headers.get("x-empty")).toBe("");
    expect(head.headers.get("x-tight")).toBe("v");
    expect(head.headers.get("x-missing")).toBeNull();
  });

  test("RFC 9110 §5.3: repeated fields are joined with ', ' in order, whatever their case", () => {
    const head = headOf(get("/", "Accept: a", "X-Other: o", "accept: b", "ACCEPT: c"));
    expect(head.headers.get("accept")).toBe("a, b, c");
    expect(head.headers.get("x-other")).toBe("o");
  });

  test("a value with obs-text (0x80-0xff) and inner spaces is kept", () => {
    expect(headOf(get("/", "X-Name: caf\xe9 au lait")).headers.get("x-name")).toBe(
      "caf\xe9 au lait",
    );
  });

  test("§3.2: HTTP/1.1 without Host -> 400", () => {
    expect(statusOf("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")).toBe(400);
    expect(statusOf("GET / HTTP/1.1\r\n\r\n")).toBe(400);
  });

  test("§3.2: two Host fields -> 400 (in 1.1 and 1.0)", () => {
    expect(statusOf("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).toBe(400);
    expect(statusOf("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n")).toBe(400);
    expect(statusOf("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")).toBe(400);
  });

  test("§3.2: HTTP/1.0 without Host is fine", () => {
    const head = headOf("GET /old HTTP/1.0\r\n\r\n");
    expect(head.http10).toBe(true);
    expect(head.target).toBe("/old");
  });

  test.each([
    ["a space", "Host : x"],
    ["a tab", "Host\t: x"],
  ])("§5.1: %s between the field name and the colon -> 400", (_, line) => {
    expect(statusOf(`GET / HTTP/1.1\r\n${line}\r\n\r\n`)).toBe(400);
  });

  test.each([
    ["a space", "X-A: one\r\n two"],
    ["a tab", "X-A: one\r\n\ttwo"],
    ["a space, with a colon", "X-A: one\r\n b: c"],
  ])("§5.2: obs-fold (a line starting with %s) -> 400", (_, lines) => {
    expect(statusOf(`GET / HTTP/1.1\r\nHost: x\r\n${lines}\r\n\r\n`)).toBe(400);
  });

  test.each([
    ["no colon", "NoColonHere"],
    ["an empty name", ": value"],
    ["a space inside the name", "X Y: z"],
    ["a separator in the name", "X(Y): z"],
    ["a slash in the name", "X/Y: z"],
    ["non-ASCII in the name", "X-\xe9: z"],
    ["NUL in the name", "X\x00Y: z"],
  ])("§5.1: a field line with %s -> 400", (_, line) => {
    expect(statusOf(get("/", line))).toBe(400);
  });

  test.each([
    ["NUL inside", "X-A: a\x00b"],
    ["a control inside", "X-A: a\x01b"],
    ["ESC inside", "X-A: a\x1bb"],
    ["DEL inside", "X-A: a\x7fb"],
    ["a bare CR inside", "X-A: a\rb"],
    ["a bare LF inside", "X-A: a\nb"],
    ["NUL at the end", "X-A: ab\x00"],
    ["a vertical tab at the end", "X-A: ab\x0b"],
    ["a form feed at the start", "X-A: \x0cab"],
    ["a bare LF at the end", "X-A: ab\n"],
    ["a bare CR at the end", "X-A: ab\r"],
  ])("RFC 9110 §5.5: a field value with %s -> 400", (_, line) => {
    expect(statusOf(get("/", line))).toBe(400);
  });
});

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
