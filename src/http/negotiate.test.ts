import { describe, expect, test } from "bun:test";
import type { Encoding, Variant } from "../snapshot/types.ts";
import { chooseVariant } from "./negotiate.ts";

/** Only encoding and size matter to negotiation. */
function variants(...spec: [Encoding, number][]): Variant[] {
  return spec.map(([encoding, size]) => ({ encoding, size }) as Variant);
}

const all = variants(["br", 100], ["zstd", 110], ["gzip", 120], ["identity", 400]);
const zstdFirst = variants(["zstd", 90], ["br", 100], ["gzip", 120], ["identity", 400]);
const gzipOnly = variants(["gzip", 120], ["identity", 400]);

const pick = (vs: readonly Variant[], header: string | null): Encoding =>
  chooseVariant(vs, header).encoding;

describe("chooseVariant", () => {
  test("RFC 9110 §12.5.3: no Accept-Encoding field -> identity (we do not push codings)", () => {
    expect(pick(all, null)).toBe("identity");
  });

  test("RFC 9110 §12.5.3: an empty Accept-Encoding field means no coding is wanted", () => {
    expect(pick(all, "")).toBe("identity");
  });

  test("RFC 9110 §12.5.3: equally-qualified codings are ordered by the server (smallest variant)", () => {
    expect(pick(all, "gzip, deflate, br, zstd")).toBe("br");
    expect(pick(zstdFirst, "gzip, deflate, br, zstd")).toBe("zstd");
    expect(pick(all, "gzip, zstd")).toBe("zstd");
    expect(pick(all, "gzip;q=0.5, zstd;q=0.5")).toBe("zstd");
  });

  test("RFC 9110 §12.4.2: a higher q-value wins over server preference", () => {
    expect(pick(all, "gzip;q=0.9, br;q=0.8")).toBe("gzip");
    expect(pick(all, "br;q=0.5, gzip")).toBe("gzip");
    expect(pick(all, "identity, br;q=0.5")).toBe("identity");
  });

  test("RFC 9110 §12.4.2: q=0 means not acceptable", () => {
    expect(pick(all, "br;q=0, gzip")).toBe("gzip");
    expect(pick(gzipOnly, "gzip;q=0")).toBe("identity");
    expect(pick(all, "br;q=0.000, zstd;q=0, gzip;q=0.1")).toBe("gzip");
  });

  test("RFC 9110 §12.5.3: * matches any coding not explicitly listed", () => {
    expect(pick(all, "*")).toBe("br");
    expect(pick(all, "br;q=0, *")).toBe("zstd");
    expect(pick(all, "br;q=0.1, *;q=0.5")).toBe("zstd");
    expect(pick(all, "*;q=0, gzip")).toBe("gzip");
  });

  test("RFC 9110 §12.5.3: identity;q=0 and *;q=0 exclude identity", () => {
    expect(pick(all, "identity;q=0, gzip")).toBe("gzip");
    expect(pick(all, "*;q=0, gzip;q=0.1")).toBe("gzip");
    expect(pick(all, "identity;q=0, *")).toBe("br");
  });

  test("RFC 9110 §12.5.1: when nothing stored is acceptable the header is disregarded -> identity", () => {
    expect(pick(all, "identity;q=0")).toBe("identity");
    expect(pick(all, "*;q=0")).toBe("identity");
    expect(pick(gzipOnly, "identity;q=0, br")).toBe("identity");
    expect(pick(gzipOnly, "gzip;q=0, identity;q=0")).toBe("identity");
  });

  test("RFC 9110 §12.5.3: identity is acceptable unless excluded, even when unlisted", () => {
    expect(pick(all, "deflate")).toBe("identity");
    expect(pick(all, "compress, x-custom;q=0.9")).toBe("identity");
  });

  test("RFC 9110 §8.4.1: content-coding tokens and the q parameter are case-insensitive", () => {
    expect(pick(all, "GZIP")).toBe("gzip");
    expect(pick(all, "Br;Q=0, gZip")).toBe("gzip");
    expect(pick(all, "IDENTITY;q=0, ZSTD;q=0.2")).toBe("zstd");
  });

  test("RFC 9110 §5.6.1: list elements tolerate OWS and empty elements", () => {
    expect(pick(all, " gzip ;  q=0.5 ,\tbr ; q=0.2 ")).toBe("gzip");
    expect(pick(all, ",, ,gzip,,")).toBe("gzip");
  });

  test("RFC 9110 §12.5.3: only the identity variant -> identity whatever the header", () => {
    const only = variants(["identity", 10]);
    expect(pick(only, "br")).toBe("identity");
    expect(pick(only, "identity;q=0")).toBe("identity");
  });

  test.each([";;;,,,", "gzip;q=abc", "gzip;q=", 'gzip;q="0.5', "\u0000\u0001", "=;=,=", "br;q=-1"])(
    "RFC 9110 §12.5.3: garbage %p never throws and yields a stored variant",
    (header) => {
      const chosen = chooseVariant(all, header);
      expect(all).toContain(chosen);
    },
  );

  test("RFC 9110 §12.5.1: an over-long header (> 1024 chars) is disregarded -> identity", () => {
    expect(pick(all, `${"gzip;q=0.5,".repeat(2000)}br`)).toBe("identity");
    expect(pick(all, `${" ".repeat(1000)}br`)).toBe("br");
  });

  test("RFC 9110 §12.5.3: the memo is keyed by header and variant order, never mixing them", () => {
    expect(pick(all, "br, zstd")).toBe("br");
    expect(pick(zstdFirst, "br, zstd")).toBe("zstd");
    expect(pick(all, "br, zstd")).toBe("br");
    // A different array with the same order shares the memo entry and gets its own object back.
    const copy = variants(["br", 1], ["zstd", 2], ["gzip", 3], ["identity", 4]);
    expect(chooseVariant(copy, "br, zstd")).toBe(copy[0] as Variant);
  });

  test("RFC 9110 §12.5.3: many distinct headers (memo cap reached) still negotiate correctly", () => {
    for (let i = 0; i < 2500; i++) {
      expect(pick(all, `x-${i}, gzip`)).toBe("gzip");
    }
    expect(pick(all, "gzip, deflate, br, zstd")).toBe("br");
  });
});
