import { describe, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import { APP_JS, ENGINES, INDEX_HTML, useFixtureServer } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

describe.each(ENGINES)("%s engine", (engine) => {
  const t = useFixtureServer({ engine });

  const decoders = {
    br: brotliDecompressSync,
    gzip: gunzipSync,
    zstd: zstdDecompressSync,
  } as const;

  describe("RFC 9110 §12.5.3 Accept-Encoding", () => {
    test.each(["br", "gzip", "zstd"] as const)(
      "%s alone selects that coding and decodes to the file",
      async (coding) => {
        const res = await rawGet(t.port, "/assets/app.3f9a1c2b.js", { "accept-encoding": coding });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-encoding")).toBe(coding);
        expect(res.headers.get("content-length")).toBe(String(res.body.byteLength));
        expect(new TextDecoder().decode(decoders[coding](res.body))).toBe(APP_JS);
      },
    );

    test("no Accept-Encoding: identity, the file's exact bytes", async () => {
      const res = await rawGet(t.port, "/");
      expect(res.headers.get("content-encoding")).toBeUndefined();
      expect(new TextDecoder().decode(res.body)).toBe(INDEX_HTML);
    });

    test("equal q-values: server preference (smallest variant) wins over the client's order", async () => {
      const res = await rawGet(t.port, "/", { "accept-encoding": "gzip, deflate, br, zstd" });
      const sizes = t.snapshot.assets.get("/index.html")?.variants.map((v) => v.encoding);
      expect(res.headers.get("content-encoding")).toBe(sizes?.[0]);
    });

    test("q=0 excludes a coding", async () => {
      const res = await rawGet(t.port, "/", { "accept-encoding": "br;q=0, gzip" });
      expect(res.headers.get("content-encoding")).toBe("gzip");
    });

    test("higher q-value wins", async () => {
      const res = await rawGet(t.port, "/", {
        "accept-encoding": "br;q=0.2, zstd;q=0.9, gzip;q=0.5",
      });
      expect(res.headers.get("content-encoding")).toBe("zstd");
    });

    test("tokens are case-insensitive", async () => {
      const res = await rawGet(t.port, "/", { "accept-encoding": "GZIP" });
      expect(res.headers.get("content-encoding")).toBe("gzip");
    });

    test("* matches the codings not listed", async () => {
      const res = await rawGet(t.port, "/", { "accept-encoding": "*, br;q=0, zstd;q=0" });
      expect(res.headers.get("content-encoding")).toBe("gzip");
    });

    test("unknown codings only: identity", async () => {
      const res = await rawGet(t.port, "/", { "accept-encoding": "compress, x-foo" });
      expect(res.headers.get("content-encoding")).toBeUndefined();
    });

    test("identity;q=0 with nothing else acceptable: the header is disregarded (§12.5.1)", async () => {
      const res = await rawGet(t.port, "/", { "accept-encoding": "identity;q=0" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-encoding")).toBeUndefined();
    });
  });

  describe("RFC 9110 §12.5.5 Vary", () => {
    test("an asset with several variants says Vary: accept-encoding on 200, 206 and 304", async () => {
      const ok = await rawGet(t.port, "/css/site.css", { "accept-encoding": "br" });
      expect(ok.headers.get("vary")).toBe("accept-encoding");
      const partial = await rawGet(t.port, "/css/site.css", { range: "bytes=0-3" });
      expect(partial.status).toBe(206);
      expect(partial.headers.get("vary")).toBe("accept-encoding");
      const etag = ok.headers.get("etag") ?? "";
      const notModified = await rawGet(t.port, "/css/site.css", {
        "accept-encoding": "br",
        "if-none-match": etag,
      });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get("vary")).toBe("accept-encoding");
    });

    test("a single-representation asset has no Vary", async () => {
      const res = await rawGet(t.port, "/img/photo.png", { "accept-encoding": "br, gzip" });
      expect(res.headers.get("vary")).toBeUndefined();
      expect(res.headers.get("content-encoding")).toBeUndefined();
      expect(res.headers.get("content-type")).toBe("image/png");
    });
  });

  describe("RFC 9110 §8.8.3 ETag per representation", () => {
    test("each coding has its own strong ETag", async () => {
      const tags = new Set<string>();
      for (const coding of ["br", "gzip", "zstd", "identity"]) {
        const res = await rawGet(t.port, "/", { "accept-encoding": coding });
        const etag = res.headers.get("etag") ?? "";
        expect(etag).toMatch(/^"[^"]+"$/);
        tags.add(etag);
      }
      expect(tags.size).toBe(4);
    });
  });
});
