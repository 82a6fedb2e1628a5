import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { encodePath, type PathResult, parsePath } from "./path.ts";

const ok = (path: string): PathResult => ({ ok: true, path });
const bad: PathResult = { ok: false, status: 400 };

describe("parsePath", () => {
  test.each([
    ["/", "/"],
    ["/index.html", "/index.html"],
    ["/docs/", "/docs/"],
    ["/docs", "/docs"],
    ["/a/b/c.txt", "/a/b/c.txt"],
    ["/.well-known/security.txt", "/.well-known/security.txt"],
    ["/a...b/...", "/a...b/..."],
  ])("RFC 9112 §3.2.1: origin-form %p -> %p", (input, path) => {
    expect(parsePath(input)).toEqual(ok(path));
  });

  test.each(["", "index.html", "*", "http://example.com/", "%2F", "?x"])(
    "RFC 9112 §3.2.1: a target that is not origin-form (%p) is 400",
    (input) => {
      expect(parsePath(input)).toEqual(bad);
    },
  );

  test.each([
    ["/a?x=1", "/a"],
    ["/a?x=/../..", "/a"],
    ["/a#frag", "/a"],
    ["/a#f?q", "/a"],
    ["/a?q#f", "/a"],
    ["/?", "/"],
    ["/a%3Fb", "/a?b"],
    ["/a%23b", "/a#b"],
  ])("RFC 3986 §3.4: the query and fragment are not part of the path (%p -> %p)", (input, path) => {
    expect(parsePath(input)).toEqual(ok(path));
  });

  test.each([
    ["/caf%C3%A9", "/café"],
    ["/caf%c3%a9", "/café"],
    ["/a%20b.txt", "/a b.txt"],
    ["/a+b", "/a+b"],
    ["/%2B", "/+"],
    ["/%252e%252e/x", "/%2e%2e/x"],
    ["/%25", "/%"],
    ["/%7Euser", "/~user"],
    ["/%F0%9F%98%80.png", "/😀.png"],
    ["/café", "/café"],
  ])("RFC 3986 §2.1: percent-decoding happens exactly once (%p -> %p)", (input, path) => {
    expect(parsePath(input)).toEqual(ok(path));
  });

  test.each(["/%", "/%4", "/%zz", "/a%g0", "/%%41", "/x%2"])(
    "RFC 3986 §2.1: malformed percent-encoding %p is 400",
    (input) => {
      expect(parsePath(input)).toEqual(bad);
    },
  );

  test.each(["/%FF", "/%C3", "/%C3%28", "/%C0%AF", "/%ED%A0%80", "/%F4%90%80%80"])(
    "RFC 3629 §3: percent-encoded octets that are not UTF-8 (%p) are 400",
    (input) => {
      expect(parsePath(input)).toEqual(bad);
    },
  );

  test.each(["/a%2fb", "/a%2Fb", "/..%2f..%2fetc/passwd", "/a%5cb", "/a%5Cb", "/%5c%5cevil.com"])(
    "RFC 3986 §7.3: an encoded separator %p is 400",
    (input) => {
      expect(parsePath(input)).toEqual(bad);
    },
  );

  test.each(["/a\\b", "\\", "/\\evil.com", "/..\\..\\windows"])(
    "RFC 3986 §7.3: a raw backslash %p is 400",
    (input) => {
      expect(parsePath(input)).toEqual(bad);
    },
  );

  test.each([
    "/%00",
    "/a%00.html",
    "/a\u0000",
    "/%0a",
    "/%0D%0ASet-Cookie:x",
    "/%1F",
    "/%7f",
    "/\t",
  ])("RFC 9112 §3.2: a control character %p is 400", (input) => {
    expect(parsePath(input)).toEqual(bad);
  });

  test("RFC 3629 §3: a lone surrogate is not text and is 400", () => {
    expect(parsePath("/a\uD800")).toEqual(bad);
  });

  test.each([
    ["//evil.com/x", "/evil.com/x"],
    ["///evil.com", "/evil.com"],
    ["/a//b///c", "/a/b/c"],
    ["/a//", "/a/"],
    ["//", "/"],
  ])(
    "RFC 3986 §4.2: repeated slashes merge so %p never becomes protocol-relative",
    (input, path) => {
      expect(parsePath(input)).toEqual(ok(path));
    },
  );

  test.each([
    ["/a/./b", "/a/b"],
    ["/a/b/../c", "/a/c"],
    ["/a/%2e%2e/b", "/b"],
    ["/a/%2E%2E/b", "/b"],
    ["/a/.%2e/b", "/b"],
    ["/a/%2e/b", "/a/b"],
    ["/docs/..", "/"],
    ["/docs/.", "/docs/"],
    ["/docs/a/..", "/docs/"],
    ["/.", "/"],
    ["/./", "/"],
    ["/a/b/../../", "/"],
  ])("RFC 3986 §5.2.4: dot segments resolve after decoding (%p -> %p)", (input, path) => {
    expect(parsePath(input)).toEqual(ok(path));
  });

  test.each([
    "/..",
    "/../",
    "/a/../../etc/passwd",
    "/%2e%2e/x",
    "/%2E%2E",
    "/.%2e/x",
    "/./../x",
    "//../x",
    "/a/b/../../../c",
  ])("RFC 3986 §5.2.4: %p climbs above the root and is 400", (input) => {
    expect(parsePath(input)).toEqual(bad);
  });
});

describe("encodePath", () => {
  test.each([
    ["/", "/"],
    ["/café", "/caf%C3%A9"],
    ["/a b.txt", "/a%20b.txt"],
    ["/100%", "/100%25"],
    ["/%2e", "/%252e"],
    ["/a?b#c", "/a%3Fb%23c"],
    ["/[x]", "/%5Bx%5D"],
    ['/a"<>`{}|^', "/a%22%3C%3E%60%7B%7D%7C%5E"],
    ["/a-b_c.d~e/", "/a-b_c.d~e/"],
    ["/!$&'()*+,;=:@", "/!$&'()*+,;=:@"],
    ["/😀", "/%F0%9F%98%80"],
  ])("RFC 3986 §3.3: %p is encoded as %p", (input, encoded) => {
    expect(encodePath(input)).toBe(encoded);
  });
});

/** Fragments that exercise every rule, mixed with arbitrary code points and lone UTF-16 units. */
const pathPiece = fc.oneof(
  fc.constantFrom("/", "//", ".", "..", "%2e", "%2E", "%2f", "%5c", "%25", "%", "%0", "%00"),
  fc.constantFrom("?", "#", "\\", "a", "b.txt", "%C3%A9", "%FF", "%C3", "é", "+", " ", "%20", "~"),
  fc.string({ unit: "binary", maxLength: 3 }),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);
const target = fc.oneof(
  fc.array(pathPiece, { maxLength: 12 }).map((parts) => `/${parts.join("")}`),
  fc.string({ unit: "binary" }),
);

describe("parsePath properties", () => {
  test("RFC 3986 §5.2.4: every result is 400 or a canonical absolute path", () => {
    fc.assert(
      fc.property(target, (input) => {
        const result = parsePath(input);
        if (!result.ok) return;
        const { path } = result;
        expect(path.startsWith("/")).toBe(true);
        expect(path.includes("//")).toBe(false);
        expect(path.includes("\\")).toBe(false);
        expect(path.includes("\u0000")).toBe(false);
        const segments = path.split("/");
        expect(segments.includes(".")).toBe(false);
        expect(segments.includes("..")).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  test("RFC 3986 §6.2.2: parsePath(encodePath(path)) returns the same path", () => {
    fc.assert(
      fc.property(target, (input) => {
        const result = parsePath(input);
        if (!result.ok) return;
        expect(parsePath(encodePath(result.path))).toEqual(result);
      }),
      { numRuns: 5000 },
    );
  });
});

describe("parsePath idempotence", () => {
  // RFC 3986 §2.4: a string is decoded exactly once, so a canonical path is a fixed point only as a
  // target that cannot be decoded again: one with no `%` (`/%2541` -> `/%41`, which as a target is
  // `/A`) and no `?`/`#` (they would end the path). encodePath is how any path becomes such a target.
  const reparsable = (path: string) => !/[%?#]/.test(path);

  test("RFC 3986 §2.4: a decoded `%` is not decoded again, so `/%41` as a target is another path", () => {
    expect(parsePath("/%2541")).toEqual(ok("/%41"));
    expect(parsePath("/%41")).toEqual(ok("/A"));
    expect(parsePath(encodePath("/%41"))).toEqual(ok("/%41"));
  });

  test("RFC 3986 §5.2.4: the path normalizer is idempotent (parsePath(p) is p)", () => {
    fc.assert(
      fc.property(target, (input) => {
        const result = parsePath(input);
        if (!result.ok || !reparsable(result.path)) return;
        expect(parsePath(result.path)).toEqual(result);
      }),
      { numRuns: 5000 },
    );
  });

  test("RFC 3986 §6.2.2: normalizing an encoded canonical path is idempotent for every path", () => {
    fc.assert(
      fc.property(target, (input) => {
        const result = parsePath(input);
        if (!result.ok) return;
        const encoded = encodePath(result.path);
        const again = parsePath(encoded);
        expect(again).toEqual(result);
        // And a second round trip changes nothing: the encoded form is canonical too.
        if (again.ok) expect(encodePath(again.path)).toBe(encoded);
      }),
      { numRuns: 5000 },
    );
  });
});
