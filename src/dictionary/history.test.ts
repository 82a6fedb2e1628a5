import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DictionaryHistory } from "./history.ts";

const dirs: string[] = [];
const fresh = (keep: number) => {
  const dir = mkdtempSync(join(tmpdir(), "memserve-history-"));
  dirs.push(dir);
  return new DictionaryHistory(join(dir, "dictionaries"), keep);
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const bytes = (text: string) => new TextEncoder().encode(text);
const texts = (list: Uint8Array[]) => list.map((b) => new TextDecoder().decode(b));

describe("DictionaryHistory", () => {
  test("newest first, at most `keep`, per match pattern; forgotten versions' bytes are deleted", async () => {
    const history = fresh(2);
    for (const v of ["v1", "v2", "v3"]) await history.record("/a.*.js", bytes(v));
    await history.record("/b.*.js", bytes("b1"));
    expect(texts(await history.versions("/a.*.js"))).toEqual(["v3", "v2"]);
    expect(texts(await history.versions("/b.*.js"))).toEqual(["b1"]);
    expect(await history.versions("/c.*.js")).toEqual([]);
    expect(readdirSync(history.dir).filter((f) => f.endsWith(".bin"))).toHaveLength(3);
  });

  test("recording the newest again changes nothing; an older one moves to the front", async () => {
    const history = fresh(3);
    for (const v of ["v1", "v2", "v2", "v1"]) await history.record("/a.*.js", bytes(v));
    expect(texts(await history.versions("/a.*.js"))).toEqual(["v1", "v2"]);
  });

  test("a corrupt version is not returned", async () => {
    const history = fresh(3);
    await history.record("/a.*.js", bytes("v1"));
    await history.record("/a.*.js", bytes("v2"));
    const [bin] = readdirSync(history.dir).filter((f) => f.endsWith(".bin"));
    writeFileSync(join(history.dir, bin as string), "bit rot");
    expect((await history.versions("/a.*.js")).length).toBe(1);
  });

  test("an unwritable directory warns once and records nothing", async () => {
    const warnings: string[] = [];
    const history = new DictionaryHistory("/proc/memserve-cannot/dictionaries", 3, (m) =>
      warnings.push(m),
    );
    await history.record("/a.*.js", bytes("v1"));
    await history.record("/a.*.js", bytes("v2"));
    expect(warnings).toHaveLength(1);
    expect(await history.versions("/a.*.js")).toEqual([]);
  });
});
