import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseIndex } from "./image-index.ts";
import { isSegmentName, verifySegment } from "./segments.ts";

/**
 * Images kept in the cache dir for an instant warm start. A persisted image is a directory
 * (`<cache>/images/<key>/`) holding `image.json` and the segments it names; segments are named by
 * their hash, so persisting again copies only the new ones, and restoring verifies each one.
 * Bodies are never served from the cache dir itself (a disk file's pages can be evicted and read
 * back at request time): `restoreImage` copies the image into the runtime dir on tmpfs first.
 */
const INDEX = "image.json";

/**
 * The persisted image's directory for one site and the options that shape its bytes:
 * `persistDir("/c", "/srv/site", { maxAge: 60 })` -> `/c/images/3f9a…` (16 hex digits).
 */
export function persistDir(cacheDir: string, root: string, shape: unknown): string {
  const key = new Bun.CryptoHasher("sha256").update(JSON.stringify([root, shape])).digest("hex");
  return join(cacheDir, "images", key.slice(0, 16));
}

/** Copies the image at `indexPath` (with its segments) into `dir`, replacing what was there. */
export function persistImage(indexPath: string, dir: string): void {
  const text = readFileSync(indexPath, "utf8");
  const index = parseIndex(text, indexPath);
  const from = join(indexPath, "..");
  mkdirSync(dir, { recursive: true });
  for (const segment of index.segments) {
    const target = join(dir, segment);
    if (existsSync(target)) continue;
    const temporary = `${target}.tmp-${process.pid}`;
    copyFileSync(join(from, segment), temporary);
    renameSync(temporary, target);
  }
  const temporary = join(dir, `${INDEX}.tmp-${process.pid}`);
  writeFileSync(temporary, text);
  renameSync(temporary, join(dir, INDEX));
  const keep = new Set(index.segments);
  for (const name of readdirSync(dir)) {
    if (name !== INDEX && !keep.has(name)) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Copies the image persisted in `dir` into `runtimeDir` as `<name>.json` and returns its index
 * path, after verifying every segment's hash against its name. A missing, corrupt or truncated
 * image returns undefined (a damaged one is deleted, so the next run persists a good one); it is
 * never served.
 */
export function restoreImage(dir: string, runtimeDir: string, name: string): string | undefined {
  const indexPath = join(dir, INDEX);
  if (!existsSync(indexPath)) return undefined;
  try {
    const text = readFileSync(indexPath, "utf8");
    const index = parseIndex(text, indexPath);
    for (const segment of index.segments) {
      if (!isSegmentName(segment)) throw new Error(`bad segment name ${segment}`);
      const target = join(runtimeDir, segment);
      if (!existsSync(target)) copyFileSync(join(dir, segment), target);
      if (!verifySegment(target)) {
        rmSync(target, { force: true });
        throw new Error(`segment ${segment} does not match its hash`);
      }
    }
    const restored = join(runtimeDir, `${name}.json`);
    writeFileSync(restored, text);
    return restored;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}
