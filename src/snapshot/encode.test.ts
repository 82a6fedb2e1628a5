import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Coding, compress, decompress } from "./compress.ts";
import { type EncodeOptions, encodeVariants } from "./encode.ts";
import type { ScannedFile } from "./scan.ts";

const TEXT = { type: "text/plain; charset=utf-8", compressible: true };
const BINARY = { type: "image/png", compressible: false };
const raw = new TextEncoder().encode("the quick brown fox jumps over the lazy dog\n".repeat(40));
let dir: string;
let warnings: string[];

const sidecar = (name: string): ScannedFile => ({
  urlPath: `/${name}`,
  absPath: join(dir, name),
  size: 0,
  mtimeMs: 0,
  version: "0:0:0:0",
});
const options = (sidecars?: [Coding, string][]): EncodeOptions => ({
  level: "fast",
  sidecars: sidecars && new Map(sidecars.map(([c, name]) => [c, sidecar(name)])),
  onWarning: (m) => warnings.push(m),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "memserve-encode-"));
  await writeFile(join(dir, "a.txt.br"), await compress(raw, "br", "max"));
  await writeFile(join(dir, "a.png.gz"), await compress(raw, "gzip", "max"));
  await writeFile(join(dir, "bad.gz"), "garbage");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("encodeVariants", () => {
  test("identity plus every worthwhile coding for a compressible type", async () => {
    warnings = [];
    const out = await encodeVariants(raw, TEXT, options());
    expect(out.map((e) => e.encoding)).toEqual(["identity", "br", "zstd", "gzip"]);
    expect(out[0]?.bytes).toBe(raw);
    for (const e of out.slice(1)) expect(decompress(e.bytes, e.encoding as Coding)).toEqual(raw);
    expect(warnings).toEqual([]);
  });

  test("identity only for an incompressible type or an empty file", async () => {
    expect((await encodeVariants(raw, BINARY, options())).map((e) => e.encoding)).toEqual([
      "identity",
    ]);
    const empty = await encodeVariants(new Uint8Array(0), TEXT, options([["br", "a.txt.br"]]));
    expect(empty.map((e) => e.encoding)).toEqual(["identity"]);
  });

  test("drops codings that do not save enough", async () => {
    const tiny = new TextEncoder().encode("hello");
    expect((await encodeVariants(tiny, TEXT, options())).map((e) => e.encoding)).toEqual([
      "identity",
    ]);
  });

  test("uses a valid sidecar byte for byte", async () => {
    const out = await encodeVariants(raw, TEXT, options([["br", "a.txt.br"]]));
    const br = out.find((e) => e.encoding === "br");
    expect(br?.bytes).toEqual(await Bun.file(join(dir, "a.txt.br")).bytes());
  });

  test("uses a valid sidecar even for a type it would not compress", async () => {
    const out = await encodeVariants(raw, BINARY, options([["gzip", "a.png.gz"]]));
    expect(out.map((e) => e.encoding)).toEqual(["identity", "gzip"]);
  });

  test("replaces an invalid sidecar and says so", async () => {
    warnings = [];
    const out = await encodeVariants(raw, TEXT, options([["gzip", "bad.gz"]]));
    const gz = out.find((e) => e.encoding === "gzip");
    expect(decompress(gz?.bytes ?? new Uint8Array(), "gzip")).toEqual(raw);
    expect(warnings).toEqual([
      `ignored sidecar bad.gz: not valid gzip data for a file of ${raw.length} bytes; compressing instead`,
    ]);
  });

  test("an invalid sidecar of an incompressible type leaves identity only", async () => {
    warnings = [];
    const out = await encodeVariants(raw, BINARY, options([["gzip", "bad.gz"]]));
    expect(out.map((e) => e.encoding)).toEqual(["identity"]);
    expect(warnings[0]).toEndWith("; not compressing this type");
  });
});
