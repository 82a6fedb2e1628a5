import { describe, expect, test } from "bun:test";
import {
  normalizeExtraHeaders,
  notModifiedHeaders,
  okHeaders,
  type VariantFacts,
} from "./headers.ts";

const facts: VariantFacts = {
  contentType: "text/css; charset=utf-8",
  encoding: "br",
  size: 120,
  etag: '"0123456789abcdef-br"',
  lastModified: "Thu, 02 Jan 2020 03:04:05 GMT",
  cacheControl: "public, max-age=600",
  vary: "accept-encoding",
};

describe("normalizeExtraHeaders", () => {
  test("lower-cases names, trims values and freezes", () => {
    const out = normalizeExtraHeaders({ "X-Frame-Options": " DENY " });
    expect(out).toEqual({ "x-frame-options": "DENY" });
    expect(Object.isFrozen(out)).toBe(true);
  });

  test("refuses headers memserve computes per response", () => {
    for (const name of ["Content-Length", "content-encoding", "Transfer-Encoding", "ETag"]) {
      expect(() => normalizeExtraHeaders({ [name]: "1" })).toThrow(/cannot be set/);
    }
  });

  test("rejects names that are not tokens and values that would split the header", () => {
    expect(() => normalizeExtraHeaders({ "": "x" })).toThrow("invalid header name");
    expect(() => normalizeExtraHeaders({ "a:b": "x" })).toThrow("invalid header name");
    expect(() => normalizeExtraHeaders({ ok: "a\nb" })).toThrow("invalid value");
    expect(() => normalizeExtraHeaders({ ok: "a\0b" })).toThrow("invalid value");
  });
});

describe("okHeaders", () => {
  test("a coded variant: every field in order, then extras", () => {
    const headers = okHeaders(facts, { "x-a": "1" });
    expect(Object.entries(headers)).toEqual([
      ["content-type", "text/css; charset=utf-8"],
      ["content-length", "120"],
      ["content-encoding", "br"],
      ["etag", '"0123456789abcdef-br"'],
      ["last-modified", "Thu, 02 Jan 2020 03:04:05 GMT"],
      ["cache-control", "public, max-age=600"],
      ["accept-ranges", "bytes"],
      ["vary", "accept-encoding"],
      ["x-a", "1"],
    ]);
    expect(Object.isFrozen(headers)).toBe(true);
  });

  test("identity has no Content-Encoding; a single variant no Vary", () => {
    const headers = okHeaders({ ...facts, encoding: "identity", vary: undefined }, {});
    expect(headers["content-encoding"]).toBeUndefined();
    expect(headers.vary).toBeUndefined();
  });

  test("an extra Vary is merged; other extras replace the default", () => {
    const extra = { vary: "Origin", "cache-control": "no-store" };
    expect(okHeaders(facts, extra).vary).toBe("accept-encoding, Origin");
    expect(okHeaders({ ...facts, vary: undefined }, extra).vary).toBe("Origin");
    expect(okHeaders(facts, extra)["cache-control"]).toBe("no-store");
  });
});

describe("notModifiedHeaders", () => {
  test("carries validators, Cache-Control, Vary and extras, no representation metadata", () => {
    expect(Object.entries(notModifiedHeaders(facts, { "x-a": "1" }))).toEqual([
      ["etag", '"0123456789abcdef-br"'],
      ["last-modified", "Thu, 02 Jan 2020 03:04:05 GMT"],
      ["cache-control", "public, max-age=600"],
      ["vary", "accept-encoding"],
      ["x-a", "1"],
    ]);
    expect(notModifiedHeaders({ ...facts, vary: undefined }, {}).vary).toBeUndefined();
  });
});
