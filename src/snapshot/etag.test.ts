import { describe, expect, test } from "bun:test";
import { strongEtag } from "./etag.ts";

const bytes = new TextEncoder().encode("hello, world\n");

describe("strongEtag", () => {
  test("is a quoted 16-hex-digit hash for identity", () => {
    expect(strongEtag(bytes, "identity")).toMatch(/^"[0-9a-f]{16}"$/);
  });

  test("appends the coding for compressed variants", () => {
    const hash = strongEtag(bytes, "identity").slice(1, -1);
    expect(strongEtag(bytes, "br")).toBe(`"${hash}-br"`);
    expect(strongEtag(bytes, "zstd")).toBe(`"${hash}-zstd"`);
    expect(strongEtag(bytes, "gzip")).toBe(`"${hash}-gzip"`);
  });

  test("is stable across calls and processes (fixed seed)", () => {
    expect(strongEtag(bytes, "identity")).toBe(strongEtag(new Uint8Array(bytes), "identity"));
    // Pinned: if this changes, every ETag a deployed server hands out changes with it.
    expect(strongEtag(new TextEncoder().encode("memserve"), "identity")).toBe('"a9dc291b5b337ea0"');
  });

  test("changes when a single byte changes", () => {
    const other = new Uint8Array(bytes);
    other[0] = (other[0] ?? 0) ^ 1;
    expect(strongEtag(other, "identity")).not.toBe(strongEtag(bytes, "identity"));
  });

  test("hashes only the view, not the whole underlying buffer", () => {
    const big = new Uint8Array(64);
    big.set(bytes, 8);
    expect(strongEtag(big.subarray(8, 8 + bytes.length), "identity")).toBe(
      strongEtag(bytes, "identity"),
    );
  });

  test("contains only characters valid in an entity-tag (RFC 9110 §8.8.3)", () => {
    for (const encoding of ["identity", "br", "zstd", "gzip"] as const) {
      expect(strongEtag(bytes, encoding)).toMatch(/^"[\x21\x23-\x7e]*"$/);
    }
  });
});
