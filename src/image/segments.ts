import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { basename, join } from "node:path";

/**
 * Segments: the files of an image directory that hold response bytes (each variant's 200 head and
 * body, back to back). A segment is named by the SHA-256 of its contents, so it never changes once
 * written, two images that hold the same bytes share it, and it can be verified by rehashing.
 *
 * Two kinds, by name:
 * - `b-<hash>.seg` holds one large response (≥ LARGE_RESPONSE): a file replaced by a deploy frees
 *   its segment whole, and a kept one is never copied.
 * - `p-<hash>.seg` packs small responses (up to PACK_LIMIT bytes a pack), so 20,000 tiny files are
 *   not 20,000 partly used tmpfs pages.
 */
export const LARGE_RESPONSE = 256 * 1024;
export const PACK_LIMIT = 4 << 20;

const SEGMENT = /^[bp]-[0-9a-f]{32}\.seg$/;

export const isSegmentName = (name: string): boolean => SEGMENT.test(name);

/** Where a mapped response lives: `segment` in `dir`, from byte `offset`. */
export interface Location {
  readonly dir: string;
  readonly segment: string;
  readonly offset: number;
}

/**
 * The location of every response view this process made from a mapped segment (`mapSegment`), so
 * writing a new image references the bytes instead of copying them.
 */
const locations = new WeakMap<Uint8Array, Location>();

export function locationOf(response: Uint8Array): Location | undefined {
  return locations.get(response);
}

/** `map.subarray(offset, offset + length)`, remembered as a view of `segment` in `dir`. */
export function viewOf(map: Uint8Array, location: Location, length: number): Uint8Array {
  const view = map.subarray(location.offset, location.offset + length);
  locations.set(view, location);
  return view;
}

/**
 * Maps a segment privately: its pages are the tmpfs file's, shared with every process that maps
 * it; a page this process writes (a Date refresh) becomes its own copy. Mappings are unmapped by
 * the garbage collector once no view of them is left, so a segment deleted from the directory
 * lives exactly as long as a response that may still be sending from it.
 */
export function mapSegment(dir: string, segment: string): Uint8Array {
  if (!isSegmentName(segment)) throw new Error(`not a segment name: ${segment}`);
  const path = join(dir, segment);
  const map = Bun.mmap(path, { shared: false });
  files.set(map.buffer, { path, fd: -1 });
  return map;
}

/** The file of each mapping, opened on first use by `fileOf`. */
const files = new WeakMap<ArrayBufferLike, { readonly path: string; fd: number }>();

/** A mapping that is collected closes its file: no send can still be reading from it. */
const closer = new FinalizationRegistry<number>((fd) => closeSync(fd));

/**
 * The segment file a view of a mapping comes from, opened read-only (for sendfile); the view's
 * `byteOffset` is its offset in that file. Undefined for bytes that are not a mapped segment, or
 * when the file cannot be opened. The descriptor lives as long as the mapping, so a response still
 * sending from a replaced image keeps its file, deleted or not, until its last view is gone.
 */
export function fileOf(view: Uint8Array): number | undefined {
  const file = files.get(view.buffer);
  if (file === undefined) return undefined;
  if (file.fd < 0) {
    try {
      file.fd = openSync(file.path, "r");
    } catch {
      return undefined; // deleted before its first send: the caller writes from the mapping
    }
    closer.register(view.buffer, file.fd);
  }
  return file.fd;
}

/** Hex SHA-256 of `chunks` in order (first 128 bits: a segment's name). */
export function hashChunks(chunks: readonly Uint8Array[]): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const chunk of chunks) hasher.update(chunk);
  return hasher.digest("hex");
}

/**
 * Writes `chunks` as one segment of `kind` in `dir` (a temporary file renamed into place, so no
 * reader maps half a segment) and returns its name; when a segment with the same contents is
 * there already, nothing is written (`written` false).
 */
export function writeSegment(
  dir: string,
  kind: "b" | "p",
  chunks: readonly Uint8Array[],
): { readonly name: string; readonly written: boolean } {
  const name = `${kind}-${hashChunks(chunks).slice(0, 32)}.seg`;
  const path = join(dir, name);
  if (existsSync(path)) return { name, written: false };
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, "w");
  try {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) written += writeSync(fd, chunk, written);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return { name, written: true };
}

/** Bytes in a segment file (its apparent size); 0 when it is gone. */
export function segmentSize(dir: string, segment: string): number {
  try {
    return statSync(join(dir, segment)).size;
  } catch {
    return 0;
  }
}

/** True when the segment's contents still hash to its name (a persisted image is verified). */
export function verifySegment(path: string): boolean {
  const name = basename(path);
  if (!isSegmentName(name)) return false;
  try {
    const map = Bun.mmap(path, { shared: false });
    return hashChunks([map]).startsWith(name.slice(2, 34));
  } catch {
    return false;
  }
}
