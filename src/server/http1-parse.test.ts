import { describe, expect, test } from "bun:test";
import { get, headOf, LIMITS, parse, statusOf } from "./http1-parse.helpers.ts";
import { parseRequestHead } from "./http1-parse.ts";

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
