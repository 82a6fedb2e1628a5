// Precompressed sidecars for nginx's gzip_static and brotli_static: `x.css.gz` (gzip level 9) and
// `x.css.br` (brotli quality 11), the strongest settings a build step would use. They sit in the
// one tree every server gets; memserve adopts valid sidecars as its own variants, so both servers
// send the very same bytes for the same request (see bench/README.md).
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { isCompressible, isWorthKeeping } from "./content-types.ts";

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

type Coding = "gz" | "br";

function encode(bytes: Uint8Array, coding: Coding): Promise<Uint8Array> {
  if (coding === "gz") return gzip(bytes, { level: 9 });
  const { constants } = zlib;
  return brotli(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

/** Every regular file under `root`, relative, `/`-separated. */
export function listFiles(root: string): string[] {
  const entries = readdirSync(root, { recursive: true, encoding: "utf8" });
  return entries.filter((path) => statSync(join(root, path)).isFile()).sort();
}

/** A sidecar is current when it exists and is not older than its file. */
function isFresh(path: string, sourceMtimeMs: number): boolean {
  try {
    return statSync(path).mtimeMs >= sourceMtimeMs;
  } catch {
    return false;
  }
}

export interface SidecarStats {
  readonly written: number;
  readonly fresh: number;
  /** Encodings that saved too little to keep (memserve would drop them too). */
  readonly skipped: number;
}

/**
 * Writes missing or stale `.gz`/`.br` sidecars for every compressible file under `root`, running
 * `parallel` compressions at once on zlib's thread pool.
 *
 * @example await writeSidecars("bench/.corpus/full/site") // { written: 4600, fresh: 0, skipped: 12 }
 */
export async function writeSidecars(root: string, parallel = 2): Promise<SidecarStats> {
  const jobs: (readonly [string, Coding])[] = [];
  let fresh = 0;
  for (const path of listFiles(root)) {
    if (!isCompressible(path)) continue;
    const mtimeMs = statSync(join(root, path)).mtimeMs;
    for (const coding of ["br", "gz"] as const) {
      if (isFresh(join(root, `${path}.${coding}`), mtimeMs)) fresh++;
      else jobs.push([path, coding]);
    }
  }
  let written = 0;
  let skipped = 0;
  const worker = async (): Promise<void> => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const [path, coding] = job;
      const raw = await Bun.file(join(root, path)).bytes();
      const encoded = await encode(raw, coding);
      if (!isWorthKeeping(raw.length, encoded.length)) {
        skipped++;
        continue;
      }
      writeFileSync(join(root, `${path}.${coding}`), encoded);
      written++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { written, fresh, skipped };
}
