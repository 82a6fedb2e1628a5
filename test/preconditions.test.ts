import { beforeAll, describe, expect, test } from "bun:test";
import { ENGINES, useFixtureServer } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

describe.each(ENGINES)("%s engine", (engine) => {
  const t = useFixtureServer({ engine });
  let etag: string;
  let lastModified: string;

  beforeAll(async () => {
    const res = await rawGet(t.port, "/css/site.css");
    etag = res.headers.get("etag") ?? "";
    lastModified = res.headers.get("last-modified") ?? "";
  });

  const get = (headers: Record<string, string>, method = "GET") =>
    rawGet(t.port, "/css/site.css", headers, method);

  describe("RFC 9110 §13.2.2 preconditions", () => {
    test("If-None-Match matching: 304 with ETag, Cache-Control, no body", async () => {
      const res = await get({ "if-none-match": etag });
      expect(res.status).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
      expect(res.headers.get("date")).toBeDefined();
      expect(res.body.byteLength).toBe(0);
    });

    test("§13.1.2 If-None-Match uses weak comparison: W/ tag matches", async () => {
      expect((await get({ "if-none-match": `W/${etag}` })).status).toBe(304);
    });

    test("If-None-Match: * matches any current representation", async () => {
      expect((await get({ "if-none-match": "*" })).status).toBe(304);
    });

    test("If-None-Match in a list", async () => {
      expect((await get({ "if-none-match": `"nope", ${etag}` })).status).toBe(304);
    });

    test("If-None-Match not matching: 200", async () => {
      expect((await get({ "if-none-match": '"other"' })).status).toBe(200);
    });

    test("an ETag of another coding does not match this one", async () => {
      const br = await get({ "accept-encoding": "br" });
      const res = await get({ "if-none-match": br.headers.get("etag") ?? "" });
      expect(res.status).toBe(200);
    });

    test("HEAD gets 304 too", async () => {
      const res = await get({ "if-none-match": etag }, "HEAD");
      expect(res.status).toBe(304);
      expect(res.headers.get("date")).toBeDefined();
    });

    test("If-Modified-Since equal to Last-Modified: 304", async () => {
      expect((await get({ "if-modified-since": lastModified })).status).toBe(304);
    });

    test("If-Modified-Since before Last-Modified: 200", async () => {
      const res = await get({ "if-modified-since": "Thu, 01 Jan 1970 00:00:00 GMT" });
      expect(res.status).toBe(200);
    });

    test("§13.1.3 an unparseable If-Modified-Since is ignored", async () => {
      expect((await get({ "if-modified-since": "yesterday-ish" })).status).toBe(200);
    });

    test("If-None-Match takes precedence over If-Modified-Since", async () => {
      const res = await get({ "if-none-match": '"other"', "if-modified-since": lastModified });
      expect(res.status).toBe(200);
    });

    test("If-Match with the current ETag: 200", async () => {
      expect((await get({ "if-match": etag })).status).toBe(200);
    });

    test("§13.1.1 If-Match uses strong comparison: W/ tag fails with 412", async () => {
      expect((await get({ "if-match": `W/${etag}` })).status).toBe(412);
    });

    test("If-Match not matching: 412 before anything else", async () => {
      expect((await get({ "if-match": '"other"', "if-none-match": etag })).status).toBe(412);
    });

    test("If-Unmodified-Since before Last-Modified: 412", async () => {
      const res = await get({ "if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT" });
      expect(res.status).toBe(412);
    });

    test("If-Unmodified-Since garbage is ignored", async () => {
      expect((await get({ "if-unmodified-since": "not a date" })).status).toBe(200);
    });
  });

  describe("RFC 9110 §14 Range", () => {
    const whole = () => rawGet(t.port, "/img/photo.png");

    test("Accept-Ranges: bytes is advertised", async () => {
      expect((await whole()).headers.get("accept-ranges")).toBe("bytes");
    });

    test("single range: 206 with Content-Range and exactly those bytes", async () => {
      const full = await whole();
      const res = await rawGet(t.port, "/img/photo.png", { range: "bytes=10-19" });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes 10-19/${full.body.byteLength}`);
      expect(res.headers.get("content-length")).toBe("10");
      expect([...res.body]).toEqual([...full.body.subarray(10, 20)]);
    });

    test("suffix range bytes=-100: the last 100 bytes", async () => {
      const full = await whole();
      const res = await rawGet(t.port, "/img/photo.png", { range: "bytes=-100" });
      expect(res.status).toBe(206);
      expect([...res.body]).toEqual([...full.body.subarray(full.body.byteLength - 100)]);
    });

    test("open-ended and clamped ranges", async () => {
      const size = (await whole()).body.byteLength;
      const open = await rawGet(t.port, "/img/photo.png", { range: `bytes=${size - 5}-` });
      expect(open.headers.get("content-range")).toBe(`bytes ${size - 5}-${size - 1}/${size}`);
      const clamped = await rawGet(t.port, "/img/photo.png", {
        range: `bytes=${size - 5}-${size + 1000}`,
      });
      expect(clamped.body.byteLength).toBe(5);
    });

    test("multiple ranges: multipart/byteranges with each part", async () => {
      const res = await rawGet(t.port, "/img/photo.png", { range: "bytes=0-1, 100-101" });
      expect(res.status).toBe(206);
      const type = res.headers.get("content-type") ?? "";
      expect(type).toMatch(/^multipart\/byteranges; boundary=/);
      const text = new TextDecoder("latin1").decode(res.body);
      expect(text).toContain("Content-Range: bytes 0-1/");
      expect(text).toContain("Content-Range: bytes 100-101/");
      expect(res.headers.get("content-length")).toBe(String(res.body.byteLength));
    });

    test("unsatisfiable: 416 with Content-Range bytes */length", async () => {
      const size = (await whole()).body.byteLength;
      const res = await rawGet(t.port, "/img/photo.png", { range: `bytes=${size}-` });
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe(`bytes */${size}`);
    });

    test("malformed Range is ignored: 200", async () => {
      for (const range of ["bytes=abc", "pages=1-2", "bytes=5-2", "bytes"]) {
        expect((await rawGet(t.port, "/img/photo.png", { range })).status).toBe(200);
      }
    });

    test("more ranges than the cap: the whole body", async () => {
      const range = `bytes=${Array.from({ length: 40 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(",")}`;
      expect((await rawGet(t.port, "/img/photo.png", { range })).status).toBe(200);
    });

    test("§13.1.5 If-Range with the current strong ETag: 206; another: 200", async () => {
      const current = (await whole()).headers.get("etag") ?? "";
      const hit = await rawGet(t.port, "/img/photo.png", {
        range: "bytes=0-0",
        "if-range": current,
      });
      expect(hit.status).toBe(206);
      const miss = await rawGet(t.port, "/img/photo.png", {
        range: "bytes=0-0",
        "if-range": '"old"',
      });
      expect(miss.status).toBe(200);
      const weak = await rawGet(t.port, "/img/photo.png", {
        range: "bytes=0-0",
        "if-range": `W/${current}`,
      });
      expect(weak.status).toBe(200);
    });

    test("the range applies to the coded representation (Content-Encoding kept)", async () => {
      const br = await rawGet(t.port, "/css/site.css", { "accept-encoding": "br" });
      const res = await rawGet(t.port, "/css/site.css", {
        "accept-encoding": "br",
        range: "bytes=0-9",
      });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-encoding")).toBe("br");
      expect(res.headers.get("content-range")).toBe(`bytes 0-9/${br.body.byteLength}`);
      expect([...res.body]).toEqual([...br.body.subarray(0, 10)]);
    });

    test("HEAD ignores Range (GET is the only method with range semantics)", async () => {
      const res = await rawGet(t.port, "/img/photo.png", { range: "bytes=0-9" }, "HEAD");
      expect(res.status).toBe(200);
    });
  });
});
