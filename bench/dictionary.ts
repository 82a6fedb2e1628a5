// `npm run bench:dictionary`: what Compression Dictionary Transport (RFC 9842) saves and costs on a
// real bundle. swagger-ui-bundle.js (npm pack, pinned) is version 1; version 2 renames a few dozen
// identifiers. Reports the br, dcb and dcz sizes of v2, the time the deltas add to a reload and to
// `memserve build`, and checks that each delta decodes to v2.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { decodeDelta, encodeDelta } from "../src/dictionary/wire.ts";
import { compress } from "../src/snapshot/compress.ts";
import { median, reportPath } from "./report.ts";

const BENCH_DIR = import.meta.dir;
const REPO = dirname(BENCH_DIR);
const SPEC = "swagger-ui-dist@5.35.0";
const RENAMED = 40;
const log = (line: string) => console.error(`bench:dictionary: ${line}`);

/** swagger-ui-bundle.js of the pinned package, packed once into `dir`. */
function bundleV1(dir: string): Uint8Array {
  const path = join(dir, "swagger-ui-bundle.js");
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    log(`npm pack ${SPEC}`);
    const packed = spawnSync("npm", ["pack", SPEC, "--json"], { cwd: dir, encoding: "utf8" });
    if (packed.status !== 0) throw new Error(`npm pack ${SPEC} failed: ${packed.stderr}`);
    const tarball = JSON.parse(packed.stdout)[0].filename as string;
    const untar = spawnSync(
      "tar",
      ["xzf", tarball, "--strip-components=1", "package/swagger-ui-bundle.js"],
      { cwd: dir },
    );
    if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}`);
  }
  return readFileSync(path);
}

/**
 * v2: `RENAMED` identifiers (six letters or more, each used 2 to 20 times, spread over the file's
 * vocabulary) renamed wherever they occur, as a small source edit changes a minified bundle.
 */
export function editBundle(v1: string, count = RENAMED): { text: string; names: string[] } {
  const uses = new Map<string, number>();
  for (const m of v1.matchAll(/\b[A-Za-z_$][\w$]{5,}\b/g))
    uses.set(m[0], (uses.get(m[0]) ?? 0) + 1);
  const names = [...uses]
    .filter(([, n]) => n >= 2 && n <= 20)
    .map(([name]) => name)
    .sort();
  const step = Math.max(1, Math.floor(names.length / count));
  const picked = names.filter((_, i) => i % step === 0).slice(0, count);
  let text = v1;
  for (const name of picked)
    text = text.replace(new RegExp(`\\b${name.replace(/\$/g, "\\$")}\\b`, "g"), `${name}Q`);
  return { text, names: picked };
}

const sha8 = (bytes: Uint8Array) =>
  new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 8);

function memserve(args: string[]): { ms: number; out: string } {
  const started = performance.now();
  const run = spawnSync(process.execPath, ["src/cli/run.ts", ...args], {
    cwd: REPO,
    encoding: "utf8",
  });
  if (run.status !== 0)
    throw new Error(`memserve ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  return { ms: performance.now() - started, out: run.stdout };
}

/** A site holding one version of the bundle (the other one removed). */
function deploy(site: string, bundle: Uint8Array): string {
  rmSync(join(site, "assets"), { recursive: true, force: true });
  const name = `assets/swagger-ui-bundle.${sha8(bundle)}.js`;
  mkdirSync(join(site, "assets"), { recursive: true });
  writeFileSync(join(site, name), bundle);
  writeFileSync(join(site, "index.html"), `<!doctype html><script src="/${name}"></script>`);
  return `/${name}`;
}

/** Seconds from SIGHUP to "maximum compression reached" for a deploy of v2 over v1. */
async function reloadSeconds(v1: Uint8Array, v2: Uint8Array, versions: number): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), "memserve-dict-bench-"));
  const site = join(work, "site");
  deploy(site, v1);
  const args = [
    site,
    "--port",
    "0",
    "--workers",
    "1",
    "--no-watch",
    "--cache-dir",
    join(work, "cache"),
  ];
  const proc = Bun.spawn(
    [process.execPath, "src/cli/run.ts", ...args, "--dictionary-versions", String(versions)],
    {
      cwd: REPO,
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  let out = "";
  const reader = (async () => {
    for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
  })();
  const until = async (text: string) => {
    const deadline = Date.now() + 300_000;
    while (!out.includes(text)) {
      if (Date.now() > deadline) throw new Error(`no "${text}" in: ${out}`);
      await Bun.sleep(20);
    }
  };
  try {
    await until("maximum  in");
    deploy(site, v2);
    const started = performance.now();
    proc.kill("SIGHUP");
    await until("maximum compression reached");
    return (performance.now() - started) / 1000;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    await reader;
    rmSync(work, { recursive: true, force: true });
  }
}

/** Seconds `memserve build` takes for v2 after a build of v1 into the same cache dir. */
function buildSeconds(v1: Uint8Array, v2: Uint8Array, versions: number): number {
  const work = mkdtempSync(join(tmpdir(), "memserve-dict-bench-"));
  const site = join(work, "site");
  const cache = join(work, "cache");
  try {
    deploy(site, v1);
    memserve(["build", site, "--cache-dir", cache, "--dictionary-versions", String(versions)]);
    deploy(site, v2);
    return (
      memserve(["build", site, "--cache-dir", cache, "--dictionary-versions", String(versions)])
        .ms / 1000
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const rounds = Number(argv[argv.indexOf("--rounds") + 1]) || 3;
  const v1 = bundleV1(join(BENCH_DIR, ".corpus", "dictionary"));
  const { text, names } = editBundle(new TextDecoder().decode(v1));
  const v2 = new TextEncoder().encode(text);
  log(`v1 ${v1.length} B, v2 ${v2.length} B, ${names.length} identifiers renamed`);
  const br = await compress(v2, "br", "max", "text");
  const deltas: string[] = [];
  for (const coding of ["dcb", "dcz"] as const) {
    const started = performance.now();
    const delta = await encodeDelta(coding, v1, v2);
    const ms = performance.now() - started;
    if (!Buffer.from(decodeDelta(coding, v1, delta)).equals(Buffer.from(v2)))
      throw new Error(`${coding} does not decode to v2`);
    deltas.push(
      `| ${coding} | ${delta.length.toLocaleString("en-US")} | ${(delta.length / br.length).toFixed(3)}x | ${ms.toFixed(0)} ms |`,
    );
  }
  const times = {
    reload: { 0: [] as number[], 3: [] as number[] },
    build: { 0: [] as number[], 3: [] as number[] },
  };
  for (let round = 1; round <= rounds; round++) {
    for (const versions of [0, 3] as const) {
      times.reload[versions].push(await reloadSeconds(v1, v2, versions));
      times.build[versions].push(buildSeconds(v1, v2, versions));
      log(
        `round ${round}, --dictionary-versions ${versions}: reload ${times.reload[versions].at(-1)?.toFixed(2)} s, build ${times.build[versions].at(-1)?.toFixed(2)} s`,
      );
    }
  }
  const s = (values: number[]) => `${median(values).toFixed(2)} s`;
  const report = [
    `# Dictionary transport (RFC 9842), ${new Date().toISOString().slice(0, 19).replace("T", " ")} UTC`,
    "",
    `- v1: swagger-ui-bundle.js from ${SPEC}, ${v1.length.toLocaleString("en-US")} B; v2: ${names.length} identifiers renamed (${names.slice(0, 6).join(", ")}, …), ${v2.length.toLocaleString("en-US")} B`,
    `- Bun ${Bun.version}; nproc ${spawnSync("nproc").stdout.toString().trim()}; medians of ${rounds} rounds, nothing pinned`,
    "",
    "| v2 as | bytes | vs br (max) | time to make |",
    "| --- | ---: | ---: | ---: |",
    `| br (quality 11) | ${br.length.toLocaleString("en-US")} | 1x | — |`,
    ...deltas,
    "",
    "| step (v2 deployed over v1) | --dictionary-versions 0 | 3 (default) | added |",
    "| --- | ---: | ---: | ---: |",
    `| reload: SIGHUP to maximum compression reached | ${s(times.reload[0])} | ${s(times.reload[3])} | ${(median(times.reload[3]) - median(times.reload[0])).toFixed(2)} s |`,
    `| memserve build of v2 (v1 built before) | ${s(times.build[0])} | ${s(times.build[3])} | ${(median(times.build[3]) - median(times.build[0])).toFixed(2)} s |`,
    "",
  ].join("\n");
  console.log(report);
  const path = reportPath(join(BENCH_DIR, "results"), "-dictionary");
  writeFileSync(path, report);
  log(`wrote ${path}`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exit(await main(process.argv.slice(2)));
  } catch (error) {
    log((error as Error).message);
    process.exit(1);
  }
}
