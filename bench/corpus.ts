// The benchmark corpus: a site shaped like a real one (many small icons, some pages, a few big
// bundles, incompressible media), generated from a seed so every run and machine serves the same
// bytes. Generation is skipped when a stamp says the directory already holds this exact corpus.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateCss, generateHtml, generateJs, generateSvg } from "./corpus-text.ts";
import { createRng, hashString, type Rng } from "./prng.ts";

export type CorpusProfile = "full" | "smoke";

/** Bump when the generator's output changes, so stale corpora are rebuilt. */
const GENERATOR_VERSION = 3;
const SEED = "memserve-bench";

/** The files the scenarios request; both profiles contain them at these sizes. */
export const FIXED_FILES = {
  tinySvg: { path: "icons/icon-0001.svg", bytes: 400 },
  css: { path: "css/main.css", bytes: 150 * 1024 },
  png: { path: "img/photo.png", bytes: 300 * 1024 },
  bigJpg: { path: "img/big.jpg", bytes: 7 * 1024 * 1024 },
} as const;

/** Incompressible bodies across the sendfile bands (the `media-<k>k` scenarios). */
export const MEDIA_SIZES_K = [
  16, 32, 64, 96, 128, 160, 192, 256, 512, 1024, 1536, 2048, 4096,
] as const;
export const mediaPath = (k: number): string => `img/media-${k}k.jpg`;

export interface FileSpec {
  readonly path: string;
  readonly make: (rng: Rng) => string | Uint8Array;
}

interface ProfileShape {
  readonly pages: number;
  readonly stylesheets: number;
  readonly bundles: number;
  readonly bundleMax: number;
  readonly icons: number;
  readonly fonts: number;
  readonly jpgs: number;
  readonly pngs: number;
  readonly appJs: number;
  readonly vendorJs: number;
}

const SHAPES: Readonly<Record<CorpusProfile, ProfileShape>> = {
  full: {
    pages: 300,
    stylesheets: 30,
    bundles: 36,
    bundleMax: 1024 * 1024,
    icons: 2000,
    fonts: 24,
    jpgs: 120,
    pngs: 120,
    appJs: 1200 * 1024,
    vendorJs: 3 * 1024 * 1024,
  },
  smoke: {
    pages: 4,
    stylesheets: 2,
    bundles: 2,
    bundleMax: 120 * 1024,
    icons: 12,
    fonts: 2,
    jpgs: 2,
    pngs: 2,
    appJs: 60 * 1024,
    vendorJs: 100 * 1024,
  },
};

const MAGIC = {
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  jpg: [0xff, 0xd8, 0xff, 0xe0],
  woff2: [0x77, 0x4f, 0x46, 0x32],
} as const;

/** Random bytes behind a real file signature: as incompressible as real encoded media. */
const media =
  (kind: keyof typeof MAGIC, size: number) =>
  (rng: Rng): Uint8Array => {
    const bytes = rng.bytes(size);
    bytes.set(MAGIC[kind]);
    return bytes;
  };

/** Sizes spread like real assets: many small, few large. */
const logUniform = (rng: Rng, min: number, max: number): number =>
  Math.round(min * (max / min) ** rng.next());

const pad = (n: number): string => String(n).padStart(4, "0");

function fixedSpecs(shape: ProfileShape): FileSpec[] {
  const { tinySvg, css, png, bigJpg } = FIXED_FILES;
  return [
    { path: "index.html", make: (r) => generateHtml(r, "Home", 12 * 1024) },
    { path: "404.html", make: (r) => generateHtml(r, "Not found", 2 * 1024) },
    { path: "robots.txt", make: () => "User-agent: *\nAllow: /\n" },
    { path: css.path, make: (r) => generateCss(r, css.bytes) },
    { path: tinySvg.path, make: (r) => generateSvg(r, tinySvg.bytes) },
    { path: png.path, make: media("png", png.bytes) },
    { path: bigJpg.path, make: media("jpg", bigJpg.bytes) },
    ...MEDIA_SIZES_K.map((k) => ({ path: mediaPath(k), make: media("jpg", k * 1024) })),
    { path: "js/app.js", make: (r) => generateJs(r, shape.appJs) },
    { path: "js/vendor.5f2c9a1e.js", make: (r) => generateJs(r, shape.vendorJs) },
  ];
}

function variedSpecs(shape: ProfileShape, sizes: Rng): FileSpec[] {
  const specs: FileSpec[] = [];
  for (let i = 1; i <= shape.pages; i++) {
    const size = logUniform(sizes, 4 * 1024, 40 * 1024);
    specs.push({
      path: `blog/post-${pad(i)}.html`,
      make: (r) => generateHtml(r, `Post ${i}`, size),
    });
  }
  for (let i = 1; i <= shape.stylesheets; i++) {
    const size = logUniform(sizes, 2 * 1024, 40 * 1024);
    specs.push({ path: `css/page-${pad(i)}.css`, make: (r) => generateCss(r, size) });
  }
  for (let i = 1; i <= shape.bundles; i++) {
    const size = logUniform(sizes, 20 * 1024, shape.bundleMax);
    const hash = sizes.int(0, 0xffffffff).toString(16).padStart(8, "0");
    specs.push({ path: `js/chunk-${pad(i)}.${hash}.js`, make: (r) => generateJs(r, size) });
  }
  // icon-0001 is the fixed tiny svg; the rest of the set starts after it.
  for (let i = 2; i <= shape.icons; i++) {
    const size = logUniform(sizes, 300, 1500);
    specs.push({ path: `icons/icon-${pad(i)}.svg`, make: (r) => generateSvg(r, size) });
  }
  for (let i = 1; i <= shape.fonts; i++) {
    const size = logUniform(sizes, 15 * 1024, 80 * 1024);
    specs.push({ path: `fonts/font-${pad(i)}.woff2`, make: media("woff2", size) });
  }
  for (let i = 1; i <= shape.jpgs; i++) {
    const size = logUniform(sizes, 20 * 1024, 400 * 1024);
    specs.push({ path: `img/gallery/photo-${pad(i)}.jpg`, make: media("jpg", size) });
  }
  for (let i = 1; i <= shape.pngs; i++) {
    const size = logUniform(sizes, 2 * 1024, 200 * 1024);
    specs.push({ path: `img/ui/shot-${pad(i)}.png`, make: media("png", size) });
  }
  return specs;
}

/** Every file of a profile, in a fixed order. */
export function corpusSpecs(profile: CorpusProfile): readonly FileSpec[] {
  const shape = SHAPES[profile];
  return [...fixedSpecs(shape), ...variedSpecs(shape, createRng(hashString(`${SEED}:sizes`)))];
}

/** A file's content, from a seed derived from its path alone (so order never changes bytes). */
export function generateFile(spec: FileSpec): string | Uint8Array {
  return spec.make(createRng(hashString(`${SEED}:${spec.path}`)));
}

export interface Corpus {
  /** The directory every server is given as its root. */
  readonly root: string;
  readonly files: number;
  /** False when an identical corpus was already on disk. */
  readonly generated: boolean;
}

/**
 * Writes the profile's corpus to `<dir>/site` unless `<dir>/stamp.json` says it is already there.
 * The stamp lives outside the served root so no server sees it.
 *
 * @example await ensureCorpus("bench/.corpus/smoke", "smoke") // { root: ".../site", files: 35, … }
 */
export function ensureCorpus(dir: string, profile: CorpusProfile): Corpus {
  const specs = corpusSpecs(profile);
  const root = join(dir, "site");
  const stampPath = join(dir, "stamp.json");
  const stamp = JSON.stringify({
    version: GENERATOR_VERSION,
    seed: SEED,
    profile,
    files: specs.length,
  });
  if (existsSync(root) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp) {
    return { root, files: specs.length, generated: false };
  }
  rmSync(root, { recursive: true, force: true });
  for (const spec of specs) {
    const path = join(root, spec.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, generateFile(spec));
  }
  writeFileSync(stampPath, stamp);
  return { root, files: specs.length, generated: true };
}
