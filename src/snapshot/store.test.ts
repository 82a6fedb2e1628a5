import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CompressionStore, defaultCacheDir, openStore, type StoreKey } from "./store.ts";

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "memserve-store-"));
  made.push(dir);
  return dir;
}

/** A fresh store in a temp dir, with the warnings it gives. */
async function fresh(): Promise<{ store: CompressionStore; warnings: string[] }> {
  const warnings: string[] = [];
  const store = await openStore(join(await tempDir(), "cache"), {
    onWarning: (m) => warnings.push(m),
  });
  if (store === undefined) throw new Error(`no store: ${warnings}`);
  return { store, warnings };
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const key = (source: string, codec: StoreKey["codec"] = "br", level = "max"): StoreKey => ({
  source: bytes(source),
  codec,
  level,
});

describe("get / put", () => {
  test("put then get round-trips, under a fanned-out content-addressed name", async () => {
    const { store, warnings } = await fresh();
    const k = key("body { color: red }");
    const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff);
    expect(await store.get(k)).toBeUndefined();
    await store.put(k, payload);
    expect(await store.get(k)).toEqual(payload);
    const name = store.entryName(k);
    expect(name).toMatch(/^([0-9a-f]{2})\/\1[0-9a-f]{62}\.br-max$/);
    expect(existsSync(join(store.dir, name))).toBe(true);
    expect(warnings).toEqual([]);
  });

  test("codec, level and source each name a different entry", async () => {
    const { store } = await fresh();
    const keys = [key("a"), key("a", "zstd"), key("a", "br", "br-11"), key("b")];
    expect(new Set(keys.map((k) => store.entryName(k))).size).toBe(4);
    await store.put(keys[0] as StoreKey, bytes("encoded a"));
    for (const other of keys.slice(1)) expect(await store.get(other)).toBeUndefined();
  });

  test("a level that could leave the naming scheme is refused", async () => {
    const { store } = await fresh();
    expect(() => store.entryName(key("a", "br", "../x"))).toThrow(TypeError);
    expect(() => store.entryName(key("a", "br", ""))).toThrow(TypeError);
  });

  test("concurrent puts of one key leave one readable entry and no temp file", async () => {
    const { store } = await fresh();
    const k = key("same");
    await Promise.all([1, 2, 3, 4].map(() => store.put(k, bytes("same encoding"))));
    expect(await store.get(k)).toEqual(bytes("same encoding"));
    const fan = store.entryName(k).slice(0, 2);
    expect(await readdir(join(store.dir, fan))).toEqual([store.entryName(k).slice(3)]);
  });
});

// Each damages the stored file of `key("x")` (payload "encoded x") in place.
const damages: [string, (path: string, store: CompressionStore) => Promise<void>][] = [
  // Cut inside the payload, so only the length and hash checks can notice.
  ["truncated", async (path) => truncate(path, (await stat(path)).size - 3)],
  ["flipped payload byte", async (path) => flipLastByte(path)],
  ["wrong magic", async (path) => rewrite(path, (file) => file.set(bytes("XSV1")))],
  [
    "header claiming another codec",
    async (path, store) => {
      await store.put(key("x", "gzip"), bytes("encoded x"));
      await writeFile(path, await readFile(join(store.dir, store.entryName(key("x", "gzip")))));
    },
  ],
];

async function rewrite(path: string, change: (file: Uint8Array) => void): Promise<void> {
  const file = new Uint8Array(await readFile(path));
  change(file);
  await writeFile(path, file);
}

const flipLastByte = (path: string) =>
  rewrite(path, (file) => {
    file[file.length - 1] = (file.at(-1) ?? 0) ^ 1;
  });

describe("verification on load", () => {
  test.each(damages)("a %s entry is deleted, reported, and missed", async (_, damage) => {
    const { store, warnings } = await fresh();
    const path = join(store.dir, store.entryName(key("x")));
    await store.put(key("x"), bytes("encoded x"));
    await damage(path, store);
    expect(await store.get(key("x"))).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`cache entry ${path} was corrupt`);
    // Rebuilt by the caller: the next put and get work again.
    await store.put(key("x"), bytes("encoded x"));
    expect(await store.get(key("x"))).toEqual(bytes("encoded x"));
  });

  test("only the first corrupt entry of a run warns", async () => {
    const { store, warnings } = await fresh();
    for (const k of [key("one"), key("two")]) {
      await store.put(k, bytes("payload"));
      await flipLastByte(join(store.dir, store.entryName(k)));
      expect(await store.get(k)).toBeUndefined();
    }
    expect(warnings).toHaveLength(1);
  });

  test("a temp file left by a crash before rename is never read as the entry", async () => {
    const { store, warnings } = await fresh();
    const k = key("crashed");
    await store.put(k, bytes("complete"));
    const path = join(store.dir, store.entryName(k));
    await writeFile(`${path}.tmp-99-abc`, await readFile(path));
    await rm(path);
    expect(await store.get(k)).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe("unwritable stores", () => {
  test("a failing put warns once, stops writing, and existing entries still load", async () => {
    const { store, warnings } = await fresh();
    await store.put(key("kept"), bytes("kept encoding"));
    const fanOf = (k: StoreKey) => store.entryName(k).slice(0, 2);
    expect(fanOf(key("new one"))).not.toBe(fanOf(key("kept")));
    // Root ignores permissions, so block writes with files where the fan-out directories go.
    for (let i = 0; i < 256; i++) {
      const fan = i.toString(16).padStart(2, "0");
      if (!existsSync(join(store.dir, fan))) await writeFile(join(store.dir, fan), "");
    }
    await store.put(key("new one"), bytes("lost"));
    await store.put(key("new two"), bytes("lost"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is not writable \((EEXIST|ENOTDIR)\): storing no new entries/);
    expect(await store.get(key("new one"))).toBeUndefined();
    expect(await store.get(key("kept"))).toEqual(bytes("kept encoding"));
  });

  test("openStore on a path that cannot be created warns and returns undefined", async () => {
    const file = join(await tempDir(), "file");
    await writeFile(file, "");
    const warnings: string[] = [];
    const dir = join(file, "cache");
    expect(await openStore(dir, { onWarning: (m) => warnings.push(m) })).toBeUndefined();
    expect(warnings).toEqual([`cache dir ${dir} is not writable (ENOTDIR): continuing without it`]);
  });

  // procfs refuses new files even to root, and can be listed: a readable, unwritable directory.
  test.skipIf(process.platform !== "linux")(
    "a readable, unwritable dir opens read-only",
    async () => {
      const warnings: string[] = [];
      const store = await openStore("/proc", { onWarning: (m) => warnings.push(m) });
      expect(store?.dir).toBe("/proc");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("using its entries, storing no new ones");
      await store?.put(key("x"), bytes("never written"));
      expect(await store?.get(key("x"))).toBeUndefined();
      expect(warnings).toHaveLength(1);
    },
  );
});

describe("prune", () => {
  test("removes exactly the unreferenced entries and stale temp files", async () => {
    const { store } = await fresh();
    const keys = ["a", "b", "c"].map((s) => key(s));
    for (const k of keys) await store.put(k, bytes(`encoded ${k.codec}`));
    const [live, dead] = keys.map((k) => join(store.dir, store.entryName(k)));
    const hourAgo = new Date(Date.now() - 61 * 60 * 1000);
    const staleTemp = `${live}.tmp-1-aa`;
    const freshTemp = `${live}.tmp-2-bb`;
    const staleProbe = join(store.dir, ".probe.tmp-3-cc");
    for (const path of [staleTemp, freshTemp, staleProbe]) await writeFile(path, "12345");
    for (const path of [staleTemp, staleProbe]) await utimes(path, hourAgo, hourAgo);
    const foreign = join(store.dir, "README");
    await writeFile(foreign, "not ours");
    await mkdir(join(store.dir, "zz"));

    const keep = new Set([
      store.entryName(keys[0] as StoreKey),
      store.entryName(keys[2] as StoreKey),
    ]);
    const result = await store.prune(keep);
    const deadSize = (await Bun.file(live as string).bytes()).length; // same size as `dead`
    expect(result).toEqual({ removed: 3, kept: 2, bytesFreed: deadSize + 10 });
    expect(existsSync(dead as string)).toBe(false);
    for (const path of [staleTemp, staleProbe]) expect(existsSync(path)).toBe(false);
    for (const path of [live as string, freshTemp, foreign]) expect(existsSync(path)).toBe(true);
    expect(await store.get(keys[2] as StoreKey)).toEqual(bytes("encoded br"));
  });
});

describe("defaultCacheDir", () => {
  test("follows XDG on Linux, ignoring a relative XDG_CACHE_HOME", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/var/c" }, "linux", "/home/u")).toBe(
      "/var/c/memserve",
    );
    expect(defaultCacheDir({ XDG_CACHE_HOME: "c" }, "linux", "/home/u")).toBe(
      "/home/u/.cache/memserve",
    );
    expect(defaultCacheDir({}, "darwin", "/Users/u")).toBe("/Users/u/Library/Caches/memserve");
  });
});
