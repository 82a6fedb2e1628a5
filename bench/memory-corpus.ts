// The sites `npm run bench:memory` serves: a real third-party tree (swagger-ui, fontawesome, monaco
// from pinned npm tarballs, plus incompressible media), 20,000 small generated text files, and the
// 3-file site whose cost is subtracted. Each is rebuilt only when its stamp changes: the real tree
// needs the npm registry, and a fresh tree would also invalidate every warm-start cache.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateCss, generateHtml, generateJs, generateSvg } from "./corpus-text.ts";
import { createRng, hashString, type Rng } from "./prng.ts";
import { listFiles } from "./sidecars.ts";

export interface MemorySite {
  readonly name: string;
  readonly root: string;
  readonly files: number;
  readonly rawBytes: number;
  /** A small file that exists in every profile, for the first-200 poll. */
  readonly probePath: string;
}

/** What the real tree takes from each tarball (paths inside `package/`), and where it goes. */
const PACKAGES = [
  { spec: "swagger-ui-dist@5.35.0", into: "swagger-ui", take: ["."], skip: /\.map$/ },
  {
    spec: "@fortawesome/fontawesome-free@7.3.1",
    into: "fontawesome",
    take: ["css", "webfonts", "svgs"],
    skip: /^$/,
  },
  { spec: "monaco-editor@0.57.0", into: "monaco", take: ["min"], skip: /^$/ },
] as const;

/** The 7 MB body of the load test, and a tiny svg of the real tree for the req/s test. */
export const BIG_FILE = "/media/big.jpg";
export const TINY_FILE = "/fontawesome/svgs/solid/house.svg";
const BIG_BYTES = 7 * 1024 * 1024;
// With these the tree lands on the 3,093 files and ~41.6 MiB.
const PHOTO_BYTES = [420, 380, 330, 300, 270, 240, 210].map((k) => k * 1024);

/** Random bytes behind a JPEG/PNG signature: as incompressible as real encoded media. */
function media(rng: Rng, size: number, png: boolean): Uint8Array {
  const bytes = rng.bytes(size);
  bytes.set(png ? [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] : [0xff, 0xd8, 0xff, 0xe0]);
  return bytes;
}

function write(root: string, path: string, body: string | Uint8Array): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, body);
}

function run(argv: readonly string[], cwd: string): string {
  const [command = "", ...args] = argv;
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** Builds the tree in `<dir>/site` unless `<dir>/stamp.json` already says it holds `stamp`. */
function ensureTree(dir: string, stamp: object, build: (root: string) => void): string {
  const root = join(dir, "site");
  const stampPath = join(dir, "stamp.json");
  const text = JSON.stringify(stamp);
  if (existsSync(root) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === text) {
    return root;
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  build(root);
  writeFileSync(stampPath, text);
  return root;
}

function describeTree(name: string, root: string, probePath: string): MemorySite {
  const files = listFiles(root);
  let rawBytes = 0;
  for (const path of files) rawBytes += Bun.file(join(root, path)).size;
  return { name, root, files: files.length, rawBytes, probePath };
}

const indexPage = (rng: Rng, title: string) => generateHtml(rng, title, 3 * 1024);

/** The real tree: `npm pack` of each pinned package (kept in `<dir>/packages`), then media. */
export function ensureRealSite(dir: string, log: (line: string) => void): MemorySite {
  const stamp = { version: 1, packages: PACKAGES.map((p) => p.spec), photos: PHOTO_BYTES };
  const root = ensureTree(dir, stamp, (site) => {
    const packages = join(dir, "packages");
    const unpacked = join(dir, "unpacked");
    mkdirSync(packages, { recursive: true });
    rmSync(unpacked, { recursive: true, force: true });
    for (const p of PACKAGES) {
      log(`npm pack ${p.spec}`);
      const packed = JSON.parse(run(["npm", "pack", p.spec, "--json"], packages));
      const name: string = packed[0]?.filename ?? "";
      const into = join(unpacked, p.into);
      mkdirSync(into, { recursive: true });
      run(["tar", "xzf", join(packages, name), "-C", into, "--strip-components=1"], dir);
      for (const part of p.take) {
        cpSync(join(into, part), join(site, p.into, part), {
          recursive: true,
          filter: (source) => !p.skip.test(source),
        });
      }
    }
    rmSync(unpacked, { recursive: true, force: true });
    const rng = createRng(hashString("memserve-memory:media"));
    write(site, "index.html", indexPage(rng, "memserve memory benchmark"));
    write(site, BIG_FILE, media(rng, BIG_BYTES, false));
    PHOTO_BYTES.forEach((size, i) => {
      write(site, `media/photo-${i + 1}.${i % 2 ? "png" : "jpg"}`, media(rng, size, i % 2 === 1));
    });
  });
  return describeTree("real", root, "/index.html");
}

/** A JSON document of records drawn from small vocabularies, about `targetBytes` long. */
function generateJson(rng: Rng, targetBytes: number): string {
  const words = ["alpha", "beta", "gamma", "delta", "status", "order", "user", "item", "price"];
  const records: string[] = [];
  let length = 2;
  while (length < targetBytes) {
    const record = JSON.stringify({
      id: rng.int(1, 99_999),
      name: `${rng.pick(words)}-${rng.pick(words)}`,
      tags: [rng.pick(words), rng.pick(words)],
      active: rng.chance(0.5),
      score: rng.int(0, 10_000) / 100,
    });
    records.push(record);
    length += record.length + 1;
  }
  return `[${records.join(",")}]`;
}

const SMALL_KINDS = ["html", "css", "js", "svg", "json"] as const;

function smallFile(rng: Rng, kind: (typeof SMALL_KINDS)[number], size: number): string {
  switch (kind) {
    case "html":
      return generateHtml(rng, "Page", size);
    case "css":
      return generateCss(rng, size);
    case "js":
      return generateJs(rng, size);
    case "svg":
      return generateSvg(rng, size);
    case "json":
      return generateJson(rng, size);
  }
}

/** `count` text files (index.html + the rest in directories of 100), sizes log-uniform. */
export function ensureSmallSite(dir: string, count: number): MemorySite {
  const shape = { version: 1, count, min: 300, max: 7168 };
  const root = ensureTree(dir, shape, (site) => {
    const rng = createRng(hashString(`memserve-memory:small:${count}`));
    write(site, "index.html", indexPage(rng, "small files"));
    for (let i = 1; i < count; i++) {
      const kind = SMALL_KINDS[i % SMALL_KINDS.length] ?? "css";
      const size = Math.round(shape.min * (shape.max / shape.min) ** rng.next());
      const path = `d${String(Math.floor(i / 100)).padStart(3, "0")}/f${String(i).padStart(5, "0")}.${kind}`;
      write(site, path, smallFile(rng, kind, size));
    }
  });
  return describeTree(`${count} small`, root, "/index.html");
}

/** The reference: index.html, style.css, app.js. */
export function ensureTinySite(dir: string): MemorySite {
  const root = ensureTree(dir, { version: 1 }, (site) => {
    const rng = createRng(hashString("memserve-memory:tiny"));
    write(site, "index.html", indexPage(rng, "3 files"));
    write(site, "style.css", generateCss(rng, 4 * 1024));
    write(site, "app.js", generateJs(rng, 8 * 1024));
  });
  return describeTree("3-file", root, "/index.html");
}

/** The smoke stand-in for the real tree: a few files, the tiny svg's path and the 7 MB file. */
export function ensureSmokeRealSite(dir: string): MemorySite {
  const root = ensureTree(dir, { version: 1, smoke: true }, (site) => {
    const rng = createRng(hashString("memserve-memory:smoke"));
    write(site, "index.html", indexPage(rng, "smoke"));
    write(site, TINY_FILE, generateSvg(rng, 590));
    for (let i = 0; i < 20; i++) write(site, `js/m${i}.js`, generateJs(rng, 6 * 1024));
    write(site, BIG_FILE, media(rng, BIG_BYTES, false));
  });
  return describeTree("real", root, "/index.html");
}
