import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type ByteRange,
  contentRange,
  layoutMultipart,
  layoutPartial,
  parseRange,
  type RangeResult,
} from "./range.ts";

const ranges = (...r: [number, number][]): RangeResult => ({
  kind: "ranges",
  ranges: r.map(([start, end]) => ({ start, end })),
});
const NONE: RangeResult = { kind: "none" };
const UNSATISFIABLE: RangeResult = { kind: "unsatisfiable" };

describe("parseRange", () => {
  test.each([
    ["bytes=0-99", ranges([0, 99])],
    ["bytes=0-0", ranges([0, 0])],
    ["bytes=999-999", ranges([999, 999])],
    ["bytes=0-999", ranges([0, 999])],
  ])("RFC 9110 §14.1.2: a single int-range %p", (header, expected) => {
    expect(parseRange(header, 1000, 10)).toEqual(expected);
  });

  test.each([
    ["bytes=-100", ranges([900, 999])],
    ["bytes=-1", ranges([999, 999])],
    ["bytes=-1000", ranges([0, 999])],
    ["bytes=-5000", ranges([0, 999])],
  ])(
    "RFC 9110 §14.1.2: a suffix-range %p selects the last N bytes (all if N > size)",
    (header, expected) => {
      expect(parseRange(header, 1000, 10)).toEqual(expected);
    },
  );

  test("RFC 9110 §14.1.2: an open-ended range runs to the end", () => {
    expect(parseRange("bytes=100-", 1000, 10)).toEqual(ranges([100, 999]));
  });

  test("RFC 9110 §14.1.2: a last-pos past the end is clamped to size - 1", () => {
    expect(parseRange("bytes=900-5000", 1000, 10)).toEqual(ranges([900, 999]));
    expect(parseRange("bytes=0-99999999999999999999", 1000, 10)).toEqual(ranges([0, 999]));
  });

  test("RFC 9110 §14.1.1: the range unit is case-insensitive", () => {
    expect(parseRange("Bytes=0-1", 1000, 10)).toEqual(ranges([0, 1]));
    expect(parseRange("BYTES=0-1", 1000, 10)).toEqual(ranges([0, 1]));
  });

  test("RFC 9110 §5.6.1: OWS around list elements is allowed, empty elements are skipped", () => {
    expect(parseRange(" bytes= 0-1 ,\t5-6 , ,", 1000, 10)).toEqual(ranges([0, 1], [5, 6]));
  });

  test("RFC 9110 §14.2: several ranges are kept in request order", () => {
    expect(parseRange("bytes=500-599,0-99", 1000, 10)).toEqual(ranges([500, 599], [0, 99]));
  });

  test("RFC 9110 §14.2: overlapping and adjacent ranges are coalesced", () => {
    expect(parseRange("bytes=0-99,50-149", 1000, 10)).toEqual(ranges([0, 149]));
    expect(parseRange("bytes=0-99,100-199", 1000, 10)).toEqual(ranges([0, 199]));
    expect(parseRange("bytes=0-9,0-9,0-9", 1000, 10)).toEqual(ranges([0, 9]));
    expect(parseRange("bytes=-100,0-", 1000, 10)).toEqual(ranges([0, 999]));
  });

  test("RFC 9110 §14.2: more ranges than the cap (after coalescing) -> ignore the header", () => {
    expect(parseRange("bytes=0-0,2-2,4-4", 1000, 2)).toEqual(NONE);
    expect(parseRange("bytes=0-0,2-2", 1000, 2)).toEqual(ranges([0, 0], [2, 2]));
    expect(parseRange("bytes=0-0,1-1,2-2", 1000, 2)).toEqual(ranges([0, 2]));
    const many = Array.from({ length: 10000 }, (_, i) => `${i * 2}-${i * 2}`).join(",");
    expect(parseRange(`bytes=${many}`, 100000, 100)).toEqual(NONE);
  });

  test.each(["items=0-5", "bytes =0-5", "none", "0-5", "=0-5"])(
    "RFC 9110 §14.2: an unknown range unit (%p) is ignored",
    (header) => {
      expect(parseRange(header, 1000, 10)).toEqual(NONE);
    },
  );

  test.each([
    "bytes=",
    "bytes=,",
    "bytes= ",
    "bytes=5-2",
    "bytes=abc",
    "bytes=-",
    "bytes=--5",
    "bytes=1-2-3",
    "bytes=0x10-20",
    "bytes=+1-2",
    "bytes=1.5-2",
    "bytes=0 -5",
    "bytes=0-5,x",
    "bytes=0-5,9-3",
    "bytes=\u00000-5",
  ])("RFC 9110 §14.2: a malformed ranges-specifier %p is ignored", (header) => {
    expect(parseRange(header, 1000, 10)).toEqual(NONE);
  });

  test.each([
    "bytes=1000-",
    "bytes=1000-2000",
    "bytes=-0",
    "bytes=5000-,2000-3000",
    "bytes=99999999999999999999-",
  ])("RFC 9110 §14.1.1: %p has no satisfiable range -> 416", (header) => {
    expect(parseRange(header, 1000, 10)).toEqual(UNSATISFIABLE);
  });

  test("RFC 9110 §14.1.1: unsatisfiable elements beside satisfiable ones are dropped", () => {
    expect(parseRange("bytes=2000-,0-5", 1000, 10)).toEqual(ranges([0, 5]));
    expect(parseRange("bytes=-0,0-5", 1000, 10)).toEqual(ranges([0, 5]));
  });

  test.each(["bytes=0-", "bytes=0-0", "bytes=0-5", "bytes=-0", "bytes=1-"])(
    "RFC 9110 §14.1.3: %p on an empty representation is unsatisfiable",
    (header) => {
      expect(parseRange(header, 0, 10)).toEqual(UNSATISFIABLE);
    },
  );

  test("RFC 9110 §14.1.3: a non-zero suffix on an empty representation is ignored (200, no 206)", () => {
    expect(parseRange("bytes=-5", 0, 10)).toEqual(NONE);
    expect(parseRange("bytes=0-,-5", 0, 10)).toEqual(NONE);
  });

  test("RFC 9110 §14.2: arbitrary input never throws and stays within the representation", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `bytes=${s}`),
        ),
        fc.nat(5000),
        (header, size) => {
          const result = parseRange(header, size, 5);
          if (result.kind !== "ranges") return;
          expect(result.ranges.length).toBeGreaterThan(0);
          expect(result.ranges.length).toBeLessThanOrEqual(5);
          for (const r of result.ranges) {
            expect(0 <= r.start && r.start <= r.end && r.end < size).toBe(true);
          }
        },
      ),
    );
  });
});

describe("contentRange", () => {
  test("RFC 9110 §14.4: Content-Range is `bytes first-last/complete-length`", () => {
    expect(contentRange({ start: 0, end: 99 }, 1000)).toBe("bytes 0-99/1000");
    expect(contentRange({ start: 999, end: 999 }, 1000)).toBe("bytes 999-999/1000");
  });
});

/** The multipart body as one Blob over Blob slices, as the fetch adapter sends it. */
function createMultipartBody(
  body: Blob,
  ranges: readonly ByteRange[],
  contentType: string,
  size: number,
  boundary: string,
) {
  const layout = layoutMultipart((a, b) => body.slice(a, b), ranges, contentType, size, boundary);
  return {
    body: new Blob([...layout.chunks]),
    length: layout.length,
    contentType: layout.contentType,
  };
}

describe("layoutPartial", () => {
  const bytes = new TextEncoder().encode("0123456789");
  const slice = (a: number, b: number) => bytes.subarray(a, b);

  test("RFC 9110 §14.4: one range is one slice with Content-Range", () => {
    const partial = layoutPartial(slice, [{ start: 2, end: 4 }], "text/plain", 10);
    expect(partial.headers).toEqual({ "content-range": "bytes 2-4/10" });
    expect(partial.length).toBe(3);
    expect([...(partial.chunks[0] ?? [])]).toEqual([...bytes.subarray(2, 5)]);
  });

  test("RFC 9110 §14.6: several ranges are multipart/byteranges", () => {
    const two = [
      { start: 0, end: 0 },
      { start: 9, end: 9 },
    ];
    const partial = layoutPartial(slice, two, "text/plain", 10);
    expect(partial.headers["content-type"]).toMatch(/^multipart\/byteranges; boundary=memserve-/);
    const total = partial.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(partial.length).toBe(total);
  });
});

describe("layoutMultipart as a Blob (fetch adapter)", () => {
  const data = "0123456789abcdefghijklmnopqrstuvwxyz";
  const blob = new Blob([data]);
  const r = (start: number, end: number): ByteRange => ({ start, end });

  test("RFC 9110 §14.6: parts carry Content-Type and Content-Range, CRLF-delimited", async () => {
    const result = createMultipartBody(blob, [r(0, 1), r(10, 12)], "text/plain", 36, "SEP");
    expect(result.contentType).toBe("multipart/byteranges; boundary=SEP");
    expect(await result.body.text()).toBe(
      "--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/36\r\n\r\n01\r\n" +
        "--SEP\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/36\r\n\r\nabc\r\n" +
        "--SEP--\r\n",
    );
  });

  test("RFC 9110 §14.6: length is the exact byte length of the body", async () => {
    const ct = "text/plain; charset=utf-8";
    const result = createMultipartBody(blob, [r(0, 0), r(5, 20), r(35, 35)], ct, 36, "b0undary");
    expect(result.length).toBe((await result.body.arrayBuffer()).byteLength);
    expect(result.length).toBe(result.body.size);
  });

  test("RFC 9110 §14.6: part bytes are the requested slices, binary-safe", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const result = createMultipartBody(
      new Blob([bytes]),
      [r(250, 255), r(0, 3)],
      "application/octet-stream",
      256,
      "X",
    );
    const out = new Uint8Array(await result.body.arrayBuffer());
    const text = new TextDecoder("latin1").decode(out);
    const first = text.indexOf("\r\n\r\n") + 4;
    expect([...out.subarray(first, first + 6)]).toEqual([250, 251, 252, 253, 254, 255]);
    const second = text.indexOf("\r\n\r\n", first + 6) + 4;
    expect([...out.subarray(second, second + 4)]).toEqual([0, 1, 2, 3]);
    expect(text.endsWith("\r\n--X--\r\n")).toBe(true);
    expect(result.length).toBe(out.byteLength);
  });

  test("RFC 9110 §14.6: non-ASCII in the part Content-Type is counted in bytes", async () => {
    const result = createMultipartBody(blob, [r(0, 0)], "text/plain; name=café", 36, "B");
    expect(result.length).toBe((await result.body.arrayBuffer()).byteLength);
  });

  test("RFC 9110 §14.6: a single part is well-formed too", async () => {
    const result = createMultipartBody(blob, [r(3, 3)], "text/plain", 36, "B");
    expect(await result.body.text()).toBe(
      "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 3-3/36\r\n\r\n3\r\n--B--\r\n",
    );
  });
});
