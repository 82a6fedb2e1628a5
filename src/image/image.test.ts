import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSnapshot } from "../snapshot/build.ts";
import type { Snapshot } from "../snapshot/types.ts";
import { upgradeSnapshot } from "../snapshot/upgrade.ts";
import { readImage } from "./read-image.ts";
import { LARGE_RESPONSE } from "./segments.ts";
import { ImageWriter, writeImage } from "./write-image.ts";

let dir: string;
let root: string;
let snapshot: Snapshot;
const options = { maxAge: 60, cacheControl: undefined, extraHeaders: { "x-a": "1" } };
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "memserve-image-"));
  root = join(dir, "site");
  mkdirSync(join(root, "css"), { recursive: true });
  writeFileSync(join(root, "index.html"), `<!doctype html>${"<p>hi</p>".repeat(300)}`);
  writeFileSync(join(root, "css/a b.css"), "body{color:red}\n".repeat(500));
  writeFileSync(join(root, "empty.txt"), "");
  writeFileSync(join(root, "404.html"), "<p>not here</p>");
  // Incompressible and above LARGE_RESPONSE: a segment of its own.
  writeFileSync(join(root, "big.bin"), crypto.getRandomValues(new Uint8Array(LARGE_RESPONSE + 10)));
  snapshot = await buildSnapshot(root, options);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fresh = () => mkdtempSync(join(dir, "run-"));
const same = (a: Uint8Array | undefined, b: Uint8Array) =>
  Buffer.from(a ?? []).equals(Buffer.from(b));

describe("snapshot images (segments + index)", () => {
  test("read back: the same assets, variants, bytes, ETags and headers", () => {
    const written = writeImage(snapshot, fresh(), "gen-1");
    const image = readImage(written.indexPath);
    expect([...image.assets.keys()]).toEqual([...snapshot.assets.keys()]);
    expect(image.stats).toEqual(snapshot.stats);
    expect(image.extraHeaders).toEqual(snapshot.extraHeaders);
    expect(image.notFoundPage?.path).toBe("/404.html");
    for (const [path, asset] of snapshot.assets) {
      const copy = image.assets.get(path);
      expect([copy?.source, copy?.lastModified, copy?.contentType, copy?.atMaximum]).toEqual([
        asset.source,
        asset.lastModified,
        asset.contentType,
        asset.atMaximum,
      ]);
      expect(copy?.variants.map((v) => v.encoding)).toEqual(asset.variants.map((v) => v.encoding));
      asset.variants.forEach((variant, i) => {
        const other = copy?.variants[i];
        expect(same(other?.response, variant.response)).toBe(true);
        expect(same(other?.bytes, variant.bytes)).toBe(true);
        expect([other?.etag, other?.headers, other?.notModifiedHeaders]).toEqual([
          variant.etag,
          variant.headers,
          variant.notModifiedHeaders,
        ]);
      });
    }
    expect(image.image.bodies).toBe(
      Object.values(snapshot.stats.bytesByEncoding).reduce((a, b) => a + b, 0),
    );
  });

  test("a large response has a segment of its own; small ones are packed, identity apart", () => {
    const written = writeImage(snapshot, fresh(), "gen-1");
    const big = written.segments.filter((s) => s.startsWith("b-"));
    const packs = written.segments.filter((s) => s.startsWith("p-"));
    expect(big).toHaveLength(1);
    expect(packs).toHaveLength(2);
  });

  test("an image of a mapped snapshot references its segments: no body is written again", () => {
    const run = fresh();
    const first = writeImage(snapshot, run, "gen-1");
    const mapped = readImage(first.indexPath, { cachedAssets: Infinity });
    const second = writeImage(mapped, run, "gen-2", { compact: true });
    expect(second.bytesWritten).toBe(0);
    expect([...second.segments].sort()).toEqual([...first.segments].sort());
    expect(readdirSync(run).filter((f) => f.endsWith(".seg"))).toHaveLength(first.segments.length);
  });

  test("an upgrade writes only the new codings; the fast ones' pack is no longer referenced", async () => {
    const run = fresh();
    const first = writeImage(snapshot, run, "gen-1");
    const mapped = readImage(first.indexPath, { cachedAssets: Infinity });
    const best = await upgradeSnapshot(mapped);
    const second = writeImage(best, run, "gen-2", { compact: true });
    // The identity pack and the large file stay as they are.
    const identityPack = first.segments.find((s) => s.startsWith("p-"));
    expect(second.segments).toContain(identityPack as string);
    expect(second.segments.filter((s) => s.startsWith("b-"))).toEqual(
      first.segments.filter((s) => s.startsWith("b-")),
    );
    const identityBytes = best.stats.bytesByEncoding.identity;
    expect(second.bytesWritten).toBeLessThan(second.bodies + second.heads - identityBytes + 1);
    const reread = readImage(second.indexPath);
    for (const asset of best.assets.values()) {
      const other = reread.assets.get(asset.path);
      asset.variants.forEach((v, i) => {
        expect(same(other?.variants[i]?.bytes, v.bytes)).toBe(true);
      });
    }
  });

  test("compaction rewrites a pack that is mostly dead, and only then", async () => {
    const run = fresh();
    const first = writeImage(snapshot, run, "gen-1");
    const mapped = readImage(first.indexPath, { cachedAssets: Infinity });
    // Keep one small asset of four: its identity pack is now mostly dead.
    const kept = mapped.assets.get("/404.html");
    if (kept === undefined) throw new Error("no 404.html");
    const only = new Map([["/404.html", kept]]);
    const smaller = { ...mapped, assets: only };
    expect(writeImage(smaller, run, "gen-2").bytesWritten).toBe(0);
    const compacted = writeImage(smaller, run, "gen-3", { compact: true });
    expect(compacted.bytesWritten).toBeGreaterThan(0);
    expect(compacted.segments.some((s) => first.segments.includes(s))).toBe(false);
  });

  test("an ImageWriter fed during the build writes large responses at once, and the same image", async () => {
    const run = fresh();
    const writer = new ImageWriter(run);
    const segmentsSeen: number[] = [];
    const built = await buildSnapshot(root, {
      ...options,
      onAsset: (asset) => {
        writer.add(asset);
        writer.add(asset); // twice: placed once
        segmentsSeen.push(readdirSync(run).filter((f) => f.startsWith("b-")).length);
      },
    });
    // big.bin's segment exists as soon as its asset was handed over, before `finish`.
    expect(segmentsSeen.at(-1)).toBe(1);
    const written = writer.finish(built, "gen-1");
    const all = [...built.assets.values()].flatMap((a) => a.variants);
    expect(written.bytesWritten).toBe(all.reduce((sum, v) => sum + v.response.length, 0));
    const image = readImage(written.indexPath);
    for (const asset of built.assets.values()) {
      const other = image.assets.get(asset.path);
      asset.variants.forEach((v, i) => {
        expect(same(other?.variants[i]?.response, v.response)).toBe(true);
      });
    }
    expect(written.segments.filter((s) => s.startsWith("p-"))).toHaveLength(2);
  });

  test("assets are made on first use, and a bounded cache gives equal answers", () => {
    const written = writeImage(snapshot, fresh(), "gen-1");
    const image = readImage(written.indexPath, { cachedAssets: 1 });
    const a = image.assets.get("/index.html");
    image.assets.get("/css/a b.css");
    const b = image.assets.get("/index.html");
    expect(a).not.toBe(b);
    expect(b?.identity.etag).toBe(a?.identity.etag ?? "");
    expect(image.assets.get("/nope")).toBeUndefined();
    expect(image.assets.has("/empty.txt")).toBe(true);
    expect(image.assets.size).toBe(snapshot.assets.size);
  });

  test("a file that is not an image index is refused", () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, "hello world, not an image");
    expect(() => readImage(path)).toThrow("not a memserve image index");
    writeFileSync(path, JSON.stringify({ version: 1, assets: [] }));
    expect(() => readImage(path)).toThrow("not a memserve image index");
  });

  test("a missing segment is an error, not a partial snapshot", () => {
    const run = fresh();
    const written = writeImage(snapshot, run, "gen-1");
    rmSync(join(run, written.segments[0] as string));
    expect(() => readImage(written.indexPath)).toThrow();
  });
});
