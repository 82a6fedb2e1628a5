import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compress } from "./compress.ts";
import type { ScannedFile } from "./scan.ts";
import { readValidSidecar, splitSidecars } from "./sidecars.ts";

const file = (urlPath: string): ScannedFile => ({
  urlPath,
  absPath: `/x${urlPath}`,
  size: 1,
  mtimeMs: 0,
  version: "1:0:0:0",
});

describe("splitSidecars", () => {
  test("attaches .br, .zst and .gz next to an existing primary", () => {
    const files = ["/a.js", "/a.js.br", "/a.js.gz", "/a.js.zst", "/b.css"].map(file);
    const { primaries, sidecars } = splitSidecars(files);
    expect(primaries.map((f) => f.urlPath)).toEqual(["/a.js", "/b.css"]);
    expect([...sidecars.keys()]).toEqual(["/a.js"]);
    const codings = sidecars.get("/a.js");
    expect(codings?.get("br")?.urlPath).toBe("/a.js.br");
    expect(codings?.get("zstd")?.urlPath).toBe("/a.js.zst");
    expect(codings?.get("gzip")?.urlPath).toBe("/a.js.gz");
  });

  test("a sidecar without its primary is an ordinary file", () => {
    const files = ["/archive.tar.gz", "/dir/x.js.br", "/x.js"].map(file);
    const { primaries, sidecars } = splitSidecars(files);
    expect(primaries.map((f) => f.urlPath)).toEqual(["/archive.tar.gz", "/dir/x.js.br", "/x.js"]);
    expect(sidecars.size).toBe(0);
  });

  test("only the first link of a chain is a sidecar", () => {
    const { primaries, sidecars } = splitSidecars(["/x", "/x.gz", "/x.gz.gz"].map(file));
    expect(primaries.map((f) => f.urlPath)).toEqual(["/x", "/x.gz.gz"]);
    expect(sidecars.get("/x")?.get("gzip")?.urlPath).toBe("/x.gz");
  });

  test("a bare suffix is not a sidecar of its directory", () => {
    const { primaries } = splitSidecars(["/dir", "/dir/.gz", "/.br"].map(file));
    expect(primaries).toHaveLength(3);
  });

  test("suffixes are case-sensitive", () => {
    expect(splitSidecars(["/a.js", "/a.js.GZ"].map(file)).primaries).toHaveLength(2);
  });
});

describe("readValidSidecar", () => {
  let dir: string;
  const primary = new TextEncoder().encode("console.log('hello');\n".repeat(50));
  const at = (name: string): ScannedFile => ({ ...file(`/${name}`), absPath: join(dir, name) });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "memserve-sidecars-"));
    await writeFile(join(dir, "good.br"), await compress(primary, "br", "fast"));
    await writeFile(join(dir, "good.gz"), await compress(primary, "gzip", "fast"));
    await writeFile(join(dir, "good.zst"), await compress(primary, "zstd", "fast"));
    const stale = new TextEncoder().encode("console.log('old');\n".repeat(50));
    await writeFile(join(dir, "stale.gz"), await compress(stale, "gzip", "fast"));
    const longer = new Uint8Array(primary.length * 100).fill(65);
    await writeFile(join(dir, "bomb.br"), await compress(longer, "br", "fast"));
    await writeFile(join(dir, "corrupt.zst"), "not zstd at all");
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  test.each([
    ["good.br", "br"],
    ["good.gz", "gzip"],
    ["good.zst", "zstd"],
  ] as const)("accepts %s, which decodes to the primary", async (name, coding) => {
    const check = await readValidSidecar(at(name), coding, primary);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.bytes).toEqual(await Bun.file(join(dir, name)).bytes());
  });

  test("rejects a stale sidecar of other content", async () => {
    expect(await readValidSidecar(at("stale.gz"), "gzip", primary)).toEqual({
      ok: false,
      reason: "does not decode to the same bytes",
    });
  });

  test("rejects a sidecar that decodes to more than the primary, without inflating it", async () => {
    const check = await readValidSidecar(at("bomb.br"), "br", primary);
    expect(check).toEqual({
      ok: false,
      reason: `not valid br data for a file of ${primary.length} bytes`,
    });
  });

  test("rejects corrupt data and a coding other than the suffix says", async () => {
    expect((await readValidSidecar(at("corrupt.zst"), "zstd", primary)).ok).toBe(false);
    expect((await readValidSidecar(at("good.br"), "gzip", primary)).ok).toBe(false);
  });

  test("reports a sidecar that cannot be read", async () => {
    expect(await readValidSidecar(at("gone.br"), "br", primary)).toEqual({
      ok: false,
      reason: "cannot read: ENOENT",
    });
  });
});
