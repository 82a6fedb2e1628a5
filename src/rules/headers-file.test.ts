import { describe, expect, test } from "bun:test";
import { HeaderTable, NO_PATH_HEADERS, parseHeaders } from "./headers-file.ts";
import type { RuleError } from "./pattern.ts";

const errorOf = (text: string) => {
  try {
    parseHeaders(text);
  } catch (error) {
    return error as RuleError;
  }
  throw new Error("parsed");
};
const headersOf = (text: string, ...paths: string[]) =>
  new HeaderTable(parseHeaders(text)).for(paths);

describe("_headers: parsing", () => {
  test("a pattern line starts a block; indented Name: value lines follow; ! Name removes", () => {
    const blocks = parseHeaders(
      "# security\n/*\n  X-Frame-Options: DENY\n  Link: </a.css>; rel=preload\n\n/secret/*\n\t! X-Robots-Tag\n  X-Robots-Tag: noindex",
    );
    expect(blocks.map((b) => [b.line, b.pattern.source, b.set, b.remove])).toEqual([
      [
        2,
        "/*",
        [
          ["x-frame-options", "DENY"],
          ["link", "</a.css>; rel=preload"],
        ],
        [],
      ],
      [6, "/secret/*", [["x-robots-tag", "noindex"]], ["x-robots-tag"]],
    ]);
  });

  test("every error names its line", () => {
    expect(errorOf("  X-A: 1").message).toBe(
      '_headers:1: a header line before any URL pattern: "X-A: 1"',
    );
    expect(errorOf("/*\n  no colon here").line).toBe(2);
    expect(errorOf("/*\n  Bad Name: 1").reason).toContain("invalid header name");
    expect(errorOf("/*\n  X-A: a\u0001b").reason).toContain("invalid value");
    expect(errorOf("https://example.com/*\n  X-A: 1").reason).toContain("another host");
    expect(errorOf("relative/*\n  X-A: 1").reason).toContain('must start with "/"');
  });

  test("framing, coding, validator and date headers are refused", () => {
    for (const name of [
      "Content-Length",
      "Content-Encoding",
      "Content-Range",
      "Transfer-Encoding",
      "Date",
      "Connection",
      "ETag",
      "Last-Modified",
      "Location",
    ]) {
      expect(errorOf(`/*\n  ${name}: x`).reason).toContain(`${name.toLowerCase()} cannot be set`);
      expect(errorOf(`/*\n  ! ${name}`).reason).toContain("cannot be set");
    }
  });
});

describe("_headers: what applies to a path", () => {
  test("every matching block applies; a repeated name is joined with ', '", () => {
    const text = "/*\n  Link: <a>\n/docs/*\n  Link: <b>\n  Link: <c>\n/other\n  X-B: 1";
    expect(headersOf(text, "/docs/x.html").set).toEqual({ link: "<a>, <b>, <c>" });
    expect(headersOf(text, "/other").set).toEqual({ link: "<a>", "x-b": "1" });
  });

  test("* matches any characters anywhere; :name one segment", () => {
    const text = "/*.js\n  X-Js: 1\n/u/:id/profile\n  X-Profile: 1";
    expect(headersOf(text, "/a/b/app.js").set).toEqual({ "x-js": "1" });
    expect(headersOf(text, "/u/7/profile").set).toEqual({ "x-profile": "1" });
    expect(headersOf(text, "/u/7/8/profile")).toBe(NO_PATH_HEADERS);
  });

  test("! Name removes what earlier blocks set (and memserve's own); a later block sets it again", () => {
    const text = "/*\n  X-A: 1\n  X-B: 1\n/x\n  ! X-A\n  ! Server-Timing";
    const x = headersOf(text, "/x");
    expect(x.set).toEqual({ "x-b": "1" });
    expect([...x.remove]).toEqual(["x-a", "server-timing"]);
    const again = headersOf(`${text}\n/x\n  X-A: 2`, "/x");
    expect(again.set).toEqual({ "x-b": "1", "x-a": "2" });
    expect(again.remove.has("x-a")).toBe(false);
  });

  test("a directory index matches its own path and its directory URL", () => {
    const text = "/docs/\n  X-Dir: 1\n/docs/index.html\n  X-File: 1";
    expect(headersOf(text, "/docs/index.html", "/docs/").set).toEqual({
      "x-dir": "1",
      "x-file": "1",
    });
  });
});
