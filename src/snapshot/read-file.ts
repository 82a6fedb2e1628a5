import { closeSync, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { READ_FLAGS, versionOf } from "./scan.ts";

/**
 * Buffers whose spare bytes in front of the body are still free for a response head. A buffer
 * leaves the set when its headroom is taken, so a head is written into it at most once: rewriting
 * the head of a response that an older snapshot may be sending would corrupt that response.
 */
const withHeadroom = new WeakSet<ArrayBufferLike>();

/**
 * A body of `size` bytes (the returned view) with `headroom` spare bytes in front of it in the same
 * buffer, so the HTTP head can be put there later (`takeHeadroom`) instead of copying the body.
 */
export function allocateWithHeadroom(headroom: number, size: number): Buffer {
  // Slow: a buffer of its own, never a slice of the shared pool that other code writes into.
  const buffer = Buffer.allocUnsafeSlow(headroom + size);
  withHeadroom.add(buffer.buffer);
  return buffer.subarray(headroom);
}

/**
 * The `headLength` bytes before `body` plus `body`, as one view, when `body` came from
 * `allocateWithHeadroom` with that much room and its headroom is not taken yet; else undefined.
 * The head may be shorter than the room: it is placed right before the body.
 */
export function takeHeadroom(body: Uint8Array, headLength: number): Buffer | undefined {
  const { buffer, byteOffset, byteLength } = body;
  const fits = byteOffset >= headLength && byteOffset + byteLength === buffer.byteLength;
  if (!fits || !withHeadroom.has(buffer)) return undefined;
  withHeadroom.delete(buffer);
  return Buffer.from(buffer, byteOffset - headLength, headLength + byteLength);
}

export interface StableRead {
  /** The file's bytes, with the requested headroom in front. */
  readonly bytes: Buffer;
  readonly mtimeMs: number;
  /** `versionOf` the file as read. */
  readonly version: string;
}

/** Reads of a file that keeps changing before this many tries give up. */
const ATTEMPTS = 5;
const RETRY_DELAY_MS = 50;

/**
 * Reads a whole regular file into a buffer with `headroom` spare bytes in front. A read is kept only
 * if the file's size, mtime and ctime are the same before and after it and it ends exactly at the
 * size: a file caught while being written is read again (up to 5 times, 50 ms apart), never
 * loaded truncated or mixed.
 *
 * @example const { bytes, mtimeMs } = await readStable("/srv/site/app.css", 512);
 * @throws the open/read error (ENOENT, EACCES, ELOOP for a file swapped for a link), `not a
 *   regular file`, or `still changing after 5 reads`.
 */
export async function readStable(path: string, headroom: number): Promise<StableRead> {
  for (let attempt = 1; ; attempt++) {
    const read = readOnce(path, headroom);
    if (read !== undefined) return read;
    if (attempt === ATTEMPTS) throw new Error(`still changing after ${ATTEMPTS} reads`);
    await Bun.sleep(RETRY_DELAY_MS * attempt);
  }
}

/**
 * Synchronous on purpose: measured on the benchmark corpus (2638 files), the six calls of a read
 * took 242 ms through the async API's thread-pool round trips and 107 ms direct (`readFile`: 120
 * ms). A call blocks the event loop for about a millisecond per 3 MB.
 */
function readOnce(path: string, headroom: number): StableRead | undefined {
  const fd = openSync(path, READ_FLAGS);
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) throw new Error("not a regular file");
    const bytes = allocateWithHeadroom(headroom, before.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) return undefined; // shrank while being read
      filled += read;
    }
    // One more byte would mean the file grew past the size we saw.
    const extra = readSync(fd, Buffer.alloc(1), 0, 1, filled);
    const after = fstatSync(fd);
    return extra === 0 && sameVersion(before, after)
      ? { bytes, mtimeMs: after.mtimeMs, version: versionOf(after) }
      : undefined;
  } finally {
    closeSync(fd);
  }
}

function sameVersion(a: Stats, b: Stats): boolean {
  return versionOf(a) === versionOf(b);
}
