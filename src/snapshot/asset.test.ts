import { describe, expect, test } from "bun:test";
import { createAsset } from "./asset.ts";
import type { EncodedBytes } from "./encode.ts";

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const input = (encoded: EncodedBytes[]) => ({
  path: "/a.css",
  contentType: "text/css; charset=utf-8",
  mtimeMs: Date.UTC(2021, 5, 7, 8, 9, 10, 999),
  cacheControl: "no-cache",
  encoded,
  extraHeaders: {},
});

describe("createAsset", () => {
  test("sorts variants by size, identity last on ties, codings in preference order", () => {
    const asset = createAsset(
      input([
        { encoding: "identity", bytes: bytes(50) },
        { encoding: "gzip", bytes: bytes(50, 2) },
        { encoding: "zstd", bytes: bytes(30, 3) },
        { encoding: "br", bytes: bytes(30, 4) },
      ]),
    );
    expect(asset.variants.map((v) => v.encoding)).toEqual(["br", "zstd", "gzip", "identity"]);
    expect(asset.identity.encoding).toBe("identity");
  });

  test("truncates Last-Modified to whole seconds", () => {
    const asset = createAsset(input([{ encoding: "identity", bytes: bytes(3) }]));
    expect(asset.lastModified).toBe(Date.UTC(2021, 5, 7, 8, 9, 10));
    expect(asset.identity.headers["last-modified"]).toBe("Mon, 07 Jun 2021 08:09:10 GMT");
  });

  test("a future mtime becomes the build time (RFC 9110 §8.8.2.1)", () => {
    const before = Date.now();
    const asset = createAsset({
      ...input([{ encoding: "identity", bytes: bytes(3) }]),
      mtimeMs: before + 86_400_000,
    });
    expect(asset.lastModified).toBeLessThanOrEqual(Date.now());
    expect(asset.lastModified).toBeGreaterThan(before - 1000);
  });

  test("one Blob per variant holding exactly its bytes", async () => {
    const raw = new TextEncoder().encode("body{}");
    const asset = createAsset(input([{ encoding: "identity", bytes: raw }]));
    expect(asset.identity.body).toBeInstanceOf(Blob);
    expect(new Uint8Array(await asset.identity.body.arrayBuffer())).toEqual(raw);
    expect(asset.identity.size).toBe(6);
    raw[0] = 0; // the Blob owns a copy: later writes to the buffer do not leak into responses
    expect(await asset.identity.body.text()).toBe("body{}");
  });

  test("Vary only when there is a choice", () => {
    const single = createAsset(input([{ encoding: "identity", bytes: bytes(9) }]));
    expect(single.identity.headers.vary).toBeUndefined();
    const two = createAsset(
      input([
        { encoding: "identity", bytes: bytes(90) },
        { encoding: "gzip", bytes: bytes(20) },
      ]),
    );
    for (const v of two.variants) expect(v.headers.vary).toBe("accept-encoding");
  });

  test("requires an identity variant", () => {
    expect(() => createAsset(input([{ encoding: "br", bytes: bytes(1) }]))).toThrow(
      "no identity variant for /a.css",
    );
  });
});
