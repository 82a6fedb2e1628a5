import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type BuildOptions, buildSnapshot } from "./build.ts";
import type { Snapshot } from "./types.ts";

const isRoot = process.getuid?.() === 0;
const text = (n: number) => `body { margin: ${n}px; }\n`.repeat(200);
let root: string;
let warnings: string[];
let options: BuildOptions;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "memserve-rebuild-"));
  warnings = [];
  options = {
    maxAge: 0,
    cacheControl: undefined,
    extraHeaders: {},
    onWarning: (message) => warnings.push(message),
  };
  await writeFile(join(root, "a.css"), text(1));
  await writeFile(join(root, "b.css"), text(2));
  await writeFile(join(root, "c.txt"), "plain");
});
afterEach(() => rm(root, { recursive: true, force: true }));

const rebuild = (previous: Snapshot) => buildSnapshot(root, { ...options, previous });

describe("buildSnapshot with a previous snapshot (reload)", () => {
  test("unchanged files keep their very assets; changed, added and removed ones follow the disk", async () => {
    const first = await buildSnapshot(root, options);
    await writeFile(join(root, "b.css"), text(3));
    await writeFile(join(root, "d.css"), text(4));
    await rm(join(root, "c.txt"));
    const second = await rebuild(first);
    expect(second.assets.get("/a.css")).toBe(first.assets.get("/a.css") as never);
    expect(second.assets.get("/b.css")?.identity.etag).not.toBe(
      first.assets.get("/b.css")?.identity.etag as string,
    );
    expect(Buffer.from(second.assets.get("/b.css")?.identity.bytes ?? []).toString()).toBe(text(3));
    expect(second.assets.has("/d.css")).toBe(true);
    expect(second.assets.has("/c.txt")).toBe(false);
    // The first snapshot is untouched: requests in flight on it still see the old version.
    expect(Buffer.from(first.assets.get("/b.css")?.identity.bytes ?? []).toString()).toBe(text(2));
  });

  test("a same-size rewrite is seen (ctime and inode, not only size and mtime)", async () => {
    const first = await buildSnapshot(root, options);
    await writeFile(join(root, "a.css"), text(9)); // same length as text(1)
    const second = await rebuild(first);
    expect(Buffer.from(second.assets.get("/a.css")?.identity.bytes ?? []).toString()).toBe(text(9));
  });

  test("a changed sidecar rebuilds its primary", async () => {
    await writeFile(join(root, "a.css.gz"), gzipSync(text(1)));
    const first = await buildSnapshot(root, options);
    await writeFile(join(root, "a.css.gz"), gzipSync(text(1), { level: 1 }));
    const second = await rebuild(first);
    expect(second.assets.get("/a.css")).not.toBe(first.assets.get("/a.css") as never);
    expect(second.assets.get("/b.css")).toBe(first.assets.get("/b.css") as never);
  });

  test("a deleted root fails the reload (the caller keeps the previous snapshot)", async () => {
    const first = await buildSnapshot(root, options);
    await rm(root, { recursive: true });
    await expect(rebuild(first)).rejects.toThrow("no such directory");
  });

  test.skipIf(isRoot)("an unreadable file fails the reload instead of disappearing", async () => {
    const first = await buildSnapshot(root, options);
    await writeFile(join(root, "b.css"), text(5));
    await chmod(join(root, "b.css"), 0o000);
    await expect(rebuild(first)).rejects.toThrow("cannot read b.css: EACCES");
  });

  test("at startup (no previous) an unreadable file is only skipped with a warning", async () => {
    await writeFile(join(root, "locked.txt"), "x");
    await chmod(join(root, "locked.txt"), 0o000);
    const snapshot = await buildSnapshot(root, options);
    if (!isRoot) expect(warnings).toContain("cannot read locked.txt: EACCES");
    expect(snapshot.assets.has("/a.css")).toBe(true);
  });
});
