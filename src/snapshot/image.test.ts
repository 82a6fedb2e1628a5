import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSnapshot } from "./build.ts";
import { readImage, writeImage } from "./image.ts";
import type { Snapshot } from "./types.ts";

let dir: string;
let snapshot: Snapshot;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "memserve-image-"));
  const root = join(dir, "site");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(root, "css"), { recursive: true });
  writeFileSync(join(root, "index.html"), `<!doctype html>${"<p>hi</p>".repeat(300)}`);
  writeFileSync(join(root, "css/a b.css"), "body{color:red}\n".repeat(500));
  writeFileSync(join(root, "empty.txt"), "");
  writeFileSync(join(root, "404.html"), "<p>not here</p>");
  snapshot = await buildSnapshot(root, {
    maxAge: 60,
    cacheControl: undefined,
    extraHeaders: { "x-a": "1" },
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("snapshot images", () => {
  test("read back: the same assets, variants, bytes, ETags and headers", () => {
    const path = join(dir, "snapshot.img");
    writeImage(snapshot, path);
    const image = readImage(path);
    expect([...image.assets.keys()]).toEqual([...snapshot.assets.keys()]);
    expect(image.stats).toEqual(snapshot.stats);
    expect(image.extraHeaders).toEqual(snapshot.extraHeaders);
    expect(image.notFoundPage?.path).toBe("/404.html");
    for (const [path, asset] of snapshot.assets) {
      const copy = image.assets.get(path);
      expect(copy?.source).toBe(asset.source);
      expect(copy?.lastModified).toBe(asset.lastModified);
      expect(copy?.variants.map((v) => v.encoding)).toEqual(asset.variants.map((v) => v.encoding));
      asset.variants.forEach((variant, i) => {
        const other = copy?.variants[i];
        expect(Buffer.from(other?.response ?? []).equals(Buffer.from(variant.response))).toBe(true);
        expect(Buffer.from(other?.bytes ?? []).equals(Buffer.from(variant.bytes))).toBe(true);
        expect([other?.etag, other?.headers, other?.notModifiedHeaders]).toEqual([
          variant.etag,
          variant.headers,
          variant.notModifiedHeaders,
        ]);
      });
    }
  });

  test("responses are views of one mapping, not copies", () => {
    const path = join(dir, "views.img");
    writeImage(snapshot, path);
    const image = readImage(path);
    const buffers = new Set(
      [...image.assets.values()].flatMap((a) => a.variants.map((v) => v.response.buffer)),
    );
    expect(buffers.size).toBe(1);
  });

  test("a file that is not an image is refused", () => {
    const path = join(dir, "bad.img");
    writeFileSync(path, "hello world, not an image");
    expect(() => readImage(path)).toThrow("not a memserve image");
  });
});
