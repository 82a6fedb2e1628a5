import { describe, expect, test } from "bun:test";
import { type Coding, compress, decompress, isWorthKeeping } from "./compress.ts";

const CODINGS: readonly Coding[] = ["br", "zstd", "gzip"];
const text = new TextEncoder().encode(
  Array.from(
    { length: 400 },
    (_, i) => `.rule-${i} { color: #${(i * 7919).toString(16)}; }\n`,
  ).join(""),
);
// Pseudo-random bytes do not compress, like a PNG or a woff2.
const noise = Uint8Array.from(
  { length: 4096 },
  (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff,
);

describe("compress / decompress", () => {
  describe.each(CODINGS)("%s", (coding) => {
    test.each(["max", "fast"] as const)("round-trips text at %s level", async (level) => {
      const packed = await compress(text, coding, level, "text");
      expect(packed.length).toBeLessThan(text.length / 3);
      expect(decompress(packed, coding)).toEqual(new Uint8Array(text));
    });

    test("round-trips incompressible bytes in generic mode", async () => {
      const packed = await compress(noise, coding, "fast");
      expect(decompress(packed, coding)).toEqual(new Uint8Array(noise));
    });

    test("round-trips empty input", async () => {
      const packed = await compress(new Uint8Array(0), coding, "max");
      expect(decompress(packed, coding).length).toBe(0);
    });

    test("rejects output larger than maxOutputLength", async () => {
      const packed = await compress(text, coding, "fast");
      expect(() => decompress(packed, coding, text.length - 1)).toThrow();
      expect(decompress(packed, coding, text.length).length).toBe(text.length);
    });

    test("rejects bytes that are not this coding", () => {
      expect(() => decompress(text, coding)).toThrow();
    });
  });

  // Not gzip: zlib level 9 is sometimes a few bytes larger than level 6 (lazy-match heuristics).
  test("max is at least as small as fast on text for br and zstd", async () => {
    for (const coding of ["br", "zstd"] as const) {
      const max = await compress(text, coding, "max", "text");
      const fast = await compress(text, coding, "fast", "text");
      expect(max.length).toBeLessThanOrEqual(fast.length);
    }
  });

  test("gzip output is gzip, not zlib or raw deflate", async () => {
    const packed = await compress(text, "gzip", "fast");
    expect([packed[0], packed[1]]).toEqual([0x1f, 0x8b]); // RFC 1952 §2.3.1 magic
  });

  test("zstd output records the content size", async () => {
    const packed = await compress(text, "zstd", "fast");
    expect([...packed.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]); // RFC 8878 §3.1.1
    // Frame_Content_Size_flag (top two bits) or Single_Segment_flag: the size is in the header.
    const descriptor = packed[4] ?? 0;
    expect((descriptor & 0xc0) !== 0 || (descriptor & 0x20) !== 0).toBe(true);
  });
});

describe("isWorthKeeping", () => {
  test("keeps a saving of 10% and 32 bytes or more", () => {
    expect(isWorthKeeping(1000, 900)).toBe(true);
    expect(isWorthKeeping(1000, 100)).toBe(true);
    expect(isWorthKeeping(320, 288)).toBe(true); // exactly 10% and exactly 32 bytes
    expect(isWorthKeeping(12_345, 11_110)).toBe(true); // 1235 bytes: 10.004%
    expect(isWorthKeeping(12_345, 11_111)).toBe(false); // 1234 bytes: 9.996%
  });

  test("drops savings under 10%", () => {
    expect(isWorthKeeping(1000, 901)).toBe(false);
    expect(isWorthKeeping(10_000_000, 9_000_001)).toBe(false);
  });

  test("drops savings under 32 bytes, however large the ratio", () => {
    expect(isWorthKeeping(40, 9)).toBe(false); // 31 bytes, 77%
    expect(isWorthKeeping(40, 8)).toBe(true);
  });

  test("drops variants that grow or stay the same", () => {
    expect(isWorthKeeping(0, 0)).toBe(false);
    expect(isWorthKeeping(0, 20)).toBe(false);
    expect(isWorthKeeping(100, 120)).toBe(false);
    expect(isWorthKeeping(100, 100)).toBe(false);
  });
});
