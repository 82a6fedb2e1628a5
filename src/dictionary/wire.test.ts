import { describe, expect, test } from "bun:test";
import {
  decodeDelta,
  dictionaryHash,
  encodeDelta,
  formatHash,
  parseAvailableDictionary,
} from "./wire.ts";

const v1 = new TextEncoder().encode(
  Array.from({ length: 2000 }, (_, i) => `export function f${i}(a) { return a + ${i}; }\n`).join(
    "",
  ),
);
const v2 = new TextEncoder().encode(
  new TextDecoder().decode(v1).replace("f1000(a)", "renamed(a)").replace("+ 1500", "- 1500"),
);

describe("RFC 9842 §4 content codings", () => {
  test.each(["dcb", "dcz"] as const)(
    "%s: magic, the dictionary's SHA-256, then a stream that decodes with it",
    async (coding) => {
      const body = await encodeDelta(coding, v1, v2);
      const magic =
        coding === "dcb" ? [0xff, 0x44, 0x43, 0x42] : [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0, 0, 0];
      expect([...body.subarray(0, magic.length)]).toEqual(magic);
      expect(Buffer.from(body.subarray(magic.length, magic.length + 32))).toEqual(
        Buffer.from(dictionaryHash(v1)),
      );
      expect(Buffer.from(decodeDelta(coding, v1, body)).equals(Buffer.from(v2))).toBe(true);
      // A delta of a small edit is a small fraction of the file.
      expect(body.length).toBeLessThan(v2.length / 50);
    },
  );

  test("decoding with another dictionary is refused", async () => {
    const body = await encodeDelta("dcz", v1, v2);
    expect(() => decodeDelta("dcz", v2, body)).toThrow(/not a dcz body/);
  });

  test("an empty file and an empty dictionary still round-trip", async () => {
    for (const coding of ["dcb", "dcz"] as const) {
      const empty = new Uint8Array(0);
      expect(decodeDelta(coding, v1, await encodeDelta(coding, v1, empty)).length).toBe(0);
      expect(
        Buffer.from(decodeDelta(coding, empty, await encodeDelta(coding, empty, v2))).equals(
          Buffer.from(v2),
        ),
      ).toBe(true);
    }
  });
});

describe("Available-Dictionary (RFC 9842 §2.2, RFC 8941 §3.3.5 byte sequence)", () => {
  const hash = dictionaryHash(v1);
  const base64 = Buffer.from(hash).toString("base64");
  test("a byte sequence of 32 bytes gives its base64", () => {
    expect(formatHash(hash)).toBe(`:${base64}:`);
    expect(parseAvailableDictionary(`:${base64}:`)).toBe(base64);
    expect(parseAvailableDictionary(` :${base64}: `)).toBe(base64);
  });
  test.each([
    ["no colons", base64],
    ["a token", "sha-256"],
    ["too short", ":AAAA:"],
    ["a list", `:${base64}:, :${base64}:`],
    ["base64url characters", `:${"-_".repeat(21)}A=:`],
  ])("%s is not a dictionary hash", (_, value) => {
    expect(parseAvailableDictionary(value)).toBeUndefined();
  });
  test("absent", () => expect(parseAvailableDictionary(null)).toBeUndefined());
});
