import { readFile } from "node:fs/promises";
import { type Coding, decompress } from "./compress.ts";
import { READ_FLAGS, type ScannedFile } from "./scan.ts";

/** File suffix of a precompressed sidecar -> its coding, as build tools name them. */
const SUFFIXES: readonly (readonly [string, Coding])[] = [
  [".br", "br"],
  [".zst", "zstd"],
  [".gz", "gzip"],
];

export interface SplitFiles {
  /** Files served under their own name, in input order. */
  readonly primaries: ScannedFile[];
  /** Primary urlPath -> its sidecars by coding. */
  readonly sidecars: ReadonlyMap<string, ReadonlyMap<Coding, ScannedFile>>;
}

/** `/x.js.br` -> `["/x.js", "br"]`; undefined for a name without a sidecar suffix. */
function sidecarTarget(urlPath: string): readonly [string, Coding] | undefined {
  for (const [suffix, coding] of SUFFIXES) {
    const primary = urlPath.slice(0, -suffix.length);
    // Needs a file name before the suffix: `/.gz` and `/dir/.br` have no primary.
    if (urlPath.endsWith(suffix) && !primary.endsWith("/")) return [primary, coding];
  }
  return undefined;
}

/**
 * Separates precompressed sidecars (`x.js.br`, `x.js.zst`, `x.js.gz`) from the files they belong
 * to. A sidecar whose primary exists is not served under its own name; one without a primary (a
 * lone `archive.tar.gz`) is an ordinary file. In a chain (`x`, `x.gz`, `x.gz.gz`) only the first
 * link is a sidecar, so `x.gz.gz` stays a file.
 *
 * @example splitSidecars([js, jsBr, logGz])
 *   // { primaries: [js, logGz], sidecars: Map { "/x.js" => Map { "br" => jsBr } } }
 */
export function splitSidecars(files: readonly ScannedFile[]): SplitFiles {
  const byPath = new Set(files.map((f) => f.urlPath));
  const isSidecar = (urlPath: string): boolean => {
    const target = sidecarTarget(urlPath);
    return target !== undefined && byPath.has(target[0]) && !isSidecar(target[0]);
  };
  const primaries: ScannedFile[] = [];
  const sidecars = new Map<string, Map<Coding, ScannedFile>>();
  for (const file of files) {
    const target = isSidecar(file.urlPath) ? sidecarTarget(file.urlPath) : undefined;
    if (target === undefined) {
      primaries.push(file);
      continue;
    }
    const [primary, coding] = target;
    const codings = sidecars.get(primary) ?? new Map<Coding, ScannedFile>();
    codings.set(coding, file);
    sidecars.set(primary, codings);
  }
  return { primaries, sidecars };
}

export type SidecarCheck =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads a sidecar and accepts it only if it decodes to exactly `primary`: a stale or corrupt
 * sidecar must never be served in place of the file it claims to encode.
 *
 * @example await readValidSidecar(jsBr, "br", jsBytes) // { ok: true, bytes } or { ok: false, reason }
 */
export async function readValidSidecar(
  sidecar: ScannedFile,
  coding: Coding,
  primary: Uint8Array,
): Promise<SidecarCheck> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(sidecar.absPath, { flag: READ_FLAGS });
  } catch (error) {
    return { ok: false, reason: `cannot read: ${(error as NodeJS.ErrnoException).code ?? error}` };
  }
  let decoded: Uint8Array;
  try {
    // Capped at the primary's size: anything longer is wrong, and a bomb must not fill memory.
    decoded = decompress(bytes, coding, Math.max(1, primary.length)); // zlib requires >= 1
  } catch {
    return { ok: false, reason: `not valid ${coding} data for a file of ${primary.length} bytes` };
  }
  if (Buffer.compare(decoded, primary) !== 0) {
    return { ok: false, reason: "does not decode to the same bytes" };
  }
  return { ok: true, bytes };
}
