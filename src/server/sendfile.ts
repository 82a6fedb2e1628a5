/**
 * sendfile(2) through bun:ffi, for bodies that are byte ranges of a mapped image segment: the kernel
 * copies tmpfs pages straight to the socket, without the user-to-kernel copy a `write` makes.
 * The file and offset of a body come from the image (`fileOf` in image/segments.ts).
 */
import { platform } from "node:os";

/** What `sendFile` did: bytes the kernel took (≥ 0), or why it took none. */
export const WOULD_BLOCK = -1;
export const FAILED = -2;

type SendFn = (outFd: number, inFd: number, offset: number, count: number) => number;

/** libc's sendfile once loaded; undefined where it cannot be had, null before the first try. */
let native: SendFn | undefined | null = null;

/** Bytes the kernel took by sendfile in this process (tests and the bench see the path is used). */
export const sendfileTotals = { bytes: 0 };

const EAGAIN = 11;
const EINTR = 4;

/** Loads libc's sendfile once; undefined where it cannot be had (not Linux, no FFI). */
function load(): SendFn | undefined {
  if (native !== null) return native;
  native = undefined;
  if (platform() !== "linux") return undefined;
  try {
    const { dlopen, FFIType, ptr, read } = require("bun:ffi") as typeof import("bun:ffi");
    const lib = dlopen("libc.so.6", {
      sendfile: {
        args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u64_fast],
        returns: FFIType.i64_fast,
      },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    const { sendfile, __errno_location } = lib.symbols;
    // errno is per thread and every call here is made on the JS thread: its address never changes.
    const errno = __errno_location();
    if (errno === null) return undefined;
    // One off_t the kernel reads and advances; allocated once, outside the GC's moving heap.
    const offsetCell = new BigInt64Array(new ArrayBuffer(8));
    const offsetPtr = ptr(offsetCell);
    native = (outFd, inFd, offset, count) => {
      offsetCell[0] = BigInt(offset);
      for (;;) {
        const sent = Number(sendfile(outFd, inFd, offsetPtr, count));
        if (sent >= 0) {
          sendfileTotals.bytes += sent;
          return sent;
        }
        const code = read.i32(errno);
        if (code === EINTR) continue;
        return code === EAGAIN ? WOULD_BLOCK : FAILED;
      }
    };
  } catch {
    native = undefined;
  }
  return native;
}

/** True where sendfile can be called (Linux, bun:ffi, libc). */
export function sendfileAvailable(): boolean {
  return load() !== undefined;
}

/**
 * Sends up to `count` bytes of the file `inFd` from `offset` to the socket `outFd`: the bytes the
 * kernel took, WOULD_BLOCK when its buffer is full, FAILED on any other error (the caller writes
 * the rest instead).
 */
export function sendFile(outFd: number, inFd: number, offset: number, count: number): number {
  const send = load();
  return send === undefined ? FAILED : send(outFd, inFd, offset, count);
}
