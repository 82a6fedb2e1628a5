import { combineRanges, parse } from "range-parser";

/** Range requests (RFC 9110 §14) on top of range-parser, whose result codes we map to RFC outcomes. */

export interface ByteRange {
  readonly start: number;
  /** Inclusive, as in `Content-Range: bytes 0-99/1000`. */
  readonly end: number;
}

export type RangeResult =
  | { readonly kind: "none" }
  | { readonly kind: "unsatisfiable" }
  | { readonly kind: "ranges"; readonly ranges: readonly ByteRange[] };

const NONE: RangeResult = { kind: "none" };
const UNSATISFIABLE: RangeResult = { kind: "unsatisfiable" };

/** range-parser's `code` bits: 1 = some element is syntactically invalid, 2 = some is unsatisfiable. */
const INVALID = 1;

/**
 * Interprets a Range header against a representation of `size` bytes (RFC 9110 §14.1.2, §14.2).
 * "none" means ignore the header and send 200; "unsatisfiable" means 416.
 * `"bytes=0-99", 1000, 10` -> `{ kind: "ranges", ranges: [{ start: 0, end: 99 }] }`;
 * `"bytes=5-2", 1000, 10` -> `{ kind: "none" }`; `"bytes=2000-", 1000, 10` -> `{ kind: "unsatisfiable" }`.
 *
 * - Another unit, or any invalid element (`5-2`, `abc`, an empty set): "none", since §14.2 says a
 *   server may ignore an invalid Range, and one bad element makes the whole ranges-specifier invalid.
 * - Unsatisfiable elements next to satisfiable ones are dropped (§14.1.1: the set is satisfiable if any
 *   element is); overlapping and adjacent ranges are coalesced; more than `maxRanges` left: "none".
 * - Empty representation: a non-zero suffix (`bytes=-5`) is satisfiable by §14.1.3 but a 206 cannot
 *   describe zero bytes, so it is "none" (200 with the empty body); every other range is unsatisfiable.
 */
export function parseRange(header: string, size: number, maxRanges: number): RangeResult {
  let result: ReturnType<typeof parse>;
  try {
    result = parse(size, header.trim());
  } catch {
    // Only thrown for a size that is not a safe non-negative integer, a caller bug; serve 200.
    return NONE;
  }
  // range-parser lowercases the unit (§14.1: range units are case-insensitive).
  if (result.type !== "bytes" || (result.code & INVALID) !== 0) return NONE;
  if (result.ranges.length === 0) {
    // range-parser silently drops a non-zero suffix on an empty representation, so look for one.
    return size === 0 && hasNonZeroSuffix(header) ? NONE : UNSATISFIABLE;
  }
  const combined = combineRanges(result.ranges);
  if (combined.length > maxRanges) return NONE;
  return { kind: "ranges", ranges: combined.map(({ start, end }) => ({ start, end })) };
}

/** Only called on a header range-parser accepted as syntactically valid: `bytes=0-,-5` -> true. */
function hasNonZeroSuffix(header: string): boolean {
  const set = header.slice(header.indexOf("=") + 1);
  return set.split(",").some((element) => /^-\d*[1-9]/.test(element.trim()));
}

/** `{ start: 0, end: 99 }, 1000` -> `"bytes 0-99/1000"` (RFC 9110 §14.4). */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

const encoder = new TextEncoder();

// One boundary per process is enough: it only has to be absent from the parts' headers and bodies
// with overwhelming probability (RFC 2046 §5.1.1), and 24 random hex digits are.
export const MULTIPART_BOUNDARY = `memserve-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

export interface Multipart<T> {
  /** Part heads and the stored bytes' slices, in order; the slices share the stored bytes. */
  readonly chunks: readonly T[];
  /** The exact byte count, for Content-Length. */
  readonly length: number;
  /** `multipart/byteranges; boundary=…` */
  readonly contentType: string;
}

/**
 * Lays out a multipart/byteranges body (RFC 9110 §14.6) as part heads interleaved with slices taken
 * by `slice` (Blob.slice or Uint8Array.subarray: views, never copies).
 * `"0123456789", [{0,1},{8,9}], "text/plain", 10, "B"` -> `--B\r\nContent-Type: text/plain\r\n
 * Content-Range: bytes 0-1/10\r\n\r\n01\r\n--B\r\n…89\r\n--B--\r\n`.
 */
export function layoutMultipart<T extends Blob | Uint8Array>(
  slice: (start: number, endExclusive: number) => T,
  ranges: readonly ByteRange[],
  contentType: string,
  size: number,
  boundary: string,
): Multipart<T | Uint8Array> {
  const chunks: (T | Uint8Array)[] = [];
  let length = 0;
  for (let i = 0; i < ranges.length; i++) {
    const range = ranges[i] as ByteRange;
    // RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter, not to the part.
    const head = encoder.encode(
      `${i === 0 ? "" : "\r\n"}--${boundary}\r\n` +
        `Content-Type: ${contentType}\r\n` +
        `Content-Range: ${contentRange(range, size)}\r\n\r\n`,
    );
    chunks.push(head, slice(range.start, range.end + 1));
    length += head.byteLength + range.end + 1 - range.start;
  }
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  chunks.push(tail);
  length += tail.byteLength;
  return { chunks, length, contentType: `multipart/byteranges; boundary=${boundary}` };
}

/**
 * A 206's body (RFC 9110 §14): one range as a single slice with Content-Range, several as
 * multipart/byteranges with its Content-Type; `length` is the Content-Length. Slices come from
 * `slice` (Blob.slice or Uint8Array.subarray), so the stored bytes are shared, never copied.
 */
export function layoutPartial<T extends Blob | Uint8Array>(
  slice: (start: number, endExclusive: number) => T,
  ranges: readonly ByteRange[],
  contentType: string,
  size: number,
): Multipart<T | Uint8Array> & { readonly headers: Readonly<Record<string, string>> } {
  const [first] = ranges;
  if (ranges.length === 1 && first !== undefined) {
    return {
      chunks: [slice(first.start, first.end + 1)],
      length: first.end + 1 - first.start,
      contentType,
      headers: { "content-range": contentRange(first, size) },
    };
  }
  const multipart = layoutMultipart(slice, ranges, contentType, size, MULTIPART_BOUNDARY);
  return { ...multipart, headers: { "content-type": multipart.contentType } };
}
