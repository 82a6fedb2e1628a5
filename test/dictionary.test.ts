// Compression Dictionary Transport (RFC 9842) over real sockets on every engine: a versioned
// bundle announces itself as a dictionary, and a request naming an earlier version's hash in
// Available-Dictionary gets the new version as a dcb or dcz delta, which decodes to the file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeDelta, dictionaryHash, formatHash } from "../src/dictionary/wire.ts";
import { createFixtureSite, ENGINES, startTestServer, type TestServer } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

/** A bundle of about 120 KB, and a next version with a few identifiers changed. */
const V1 = Array.from(
  { length: 3000 },
  (_, i) =>
    `export function handler${i}(event) { return event.value * ${i} + "${(i * 7919) % 1000}"; }\n`,
).join("");
const V2 = V1.replace("handler100(", "onClick100(")
  .replace("handler2000(", "onSubmit2000(")
  .replace("* 1500 +", "* 1501 +");
const V1_PATH = "/assets/app.1a2b3c4d.js";
const V2_PATH = "/assets/app.5e6f7a8b.js";
const v1Bytes = new TextEncoder().encode(V1);
const v2Bytes = new TextEncoder().encode(V2);
const V1_HASH = formatHash(dictionaryHash(v1Bytes));
const BROWSER = "gzip, deflate, br, zstd, dcb, dcz";

describe.each(ENGINES)("%s engine: dictionary-compressed responses", (engine) => {
  let site: ReturnType<typeof createFixtureSite>;
  let running: TestServer;
  beforeAll(async () => {
    site = createFixtureSite({ [V1_PATH.slice(1)]: V1, [V2_PATH.slice(1)]: V2 });
    running = await startTestServer(site.root, { engine }, { dictionaryVersions: 3 });
  });
  afterAll(async () => {
    await running.server.stop(1000);
    site.cleanup();
  });
  const get = (path: string, headers: Record<string, string>, method = "GET") =>
    rawGet(running.port, path, headers, method);

  test("a versioned file announces its match (§2.1); files without a hash do not", async () => {
    const v1 = await get(V1_PATH, { "Accept-Encoding": "br" });
    expect(v1.headers.get("use-as-dictionary")).toBe(
      'match="/assets/app.*.js", match-dest=("script")',
    );
    expect(v1.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await get("/css/site.css", {})).headers.get("use-as-dictionary")).toBeUndefined();
  });

  test.each(["dcb", "dcz"] as const)(
    "%s: decodes with the dictionary to the file",
    async (coding) => {
      const response = await get(V2_PATH, {
        "Accept-Encoding": `br, ${coding}`,
        "Available-Dictionary": V1_HASH,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-encoding")).toBe(coding);
      expect(response.headers.get("vary")).toBe("accept-encoding, available-dictionary");
      const decoded = decodeDelta(coding, v1Bytes, response.body);
      expect(new TextDecoder().decode(decoded)).toBe(V2);
      // A few identifiers changed: the delta is a small fraction of the brotli body.
      const br = await get(V2_PATH, { "Accept-Encoding": "br" });
      expect(response.body.length).toBeLessThan(br.body.length / 10);
    },
  );

  test("the smaller delta wins when both are allowed", async () => {
    const both = await get(V2_PATH, {
      "Accept-Encoding": BROWSER,
      "Available-Dictionary": V1_HASH,
    });
    const dcb = await get(V2_PATH, { "Accept-Encoding": "dcb", "Available-Dictionary": V1_HASH });
    const dcz = await get(V2_PATH, { "Accept-Encoding": "dcz", "Available-Dictionary": V1_HASH });
    expect(both.body.length).toBe(Math.min(dcb.body.length, dcz.body.length));
  });

  test.each([
    [
      "an unknown hash",
      { "Accept-Encoding": BROWSER, "Available-Dictionary": `:${"A".repeat(43)}=:` },
    ],
    ["no Available-Dictionary", { "Accept-Encoding": BROWSER }],
    ["a malformed one", { "Accept-Encoding": BROWSER, "Available-Dictionary": "sha-256=abc" }],
    [
      "dcb and dcz not accepted",
      { "Accept-Encoding": "gzip, br", "Available-Dictionary": V1_HASH },
    ],
    [
      "dcb;q=0, dcz;q=0",
      { "Accept-Encoding": "br, dcb;q=0, dcz;q=0", "Available-Dictionary": V1_HASH },
    ],
  ])("%s: the usual negotiation, still varying on both fields", async (_, headers) => {
    const response = await get(V2_PATH, headers);
    expect(response.headers.get("content-encoding")).toBe("br");
    expect(response.headers.get("vary")).toBe("accept-encoding, available-dictionary");
  });

  test("HEAD: the delta's headers and no body", async () => {
    const headers = { "Accept-Encoding": "dcz", "Available-Dictionary": V1_HASH };
    const full = await get(V2_PATH, headers);
    const head = await get(V2_PATH, headers, "HEAD");
    expect(head.headers.get("content-encoding")).toBe("dcz");
    expect(head.headers.get("content-length")).toBe(String(full.body.length));
    expect(head.body.length).toBe(0);
  });

  test("a strong ETag per delta; If-None-Match with it is 304 (§13.2.2)", async () => {
    const headers = { "Accept-Encoding": "dcb", "Available-Dictionary": V1_HASH };
    const delta = await get(V2_PATH, headers);
    const br = await get(V2_PATH, { "Accept-Encoding": "br" });
    const etag = delta.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]+-dcb"$/);
    expect(etag).not.toBe(br.headers.get("etag"));
    const revalidated = await get(V2_PATH, { ...headers, "If-None-Match": etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get("etag")).toBe(etag);
    expect(revalidated.headers.get("vary")).toBe("accept-encoding, available-dictionary");
    // The br ETag does not match the delta representation.
    const other = await get(V2_PATH, { ...headers, "If-None-Match": br.headers.get("etag") ?? "" });
    expect(other.status).toBe(200);
  });

  test("Range applies to the delta's bytes (§14)", async () => {
    const headers = { "Accept-Encoding": "dcb", "Available-Dictionary": V1_HASH };
    const full = await get(V2_PATH, headers);
    const part = await get(V2_PATH, { ...headers, Range: "bytes=0-35" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-35/${full.body.length}`);
    expect([...part.body.subarray(0, 4)]).toEqual([0xff, 0x44, 0x43, 0x42]);
    expect(Buffer.from(part.body.subarray(4)).equals(Buffer.from(dictionaryHash(v1Bytes)))).toBe(
      true,
    );
  });

  test("v1 has a delta against v2 too: any remembered version is a dictionary", async () => {
    const v2Hash = formatHash(dictionaryHash(v2Bytes));
    const response = await get(V1_PATH, {
      "Accept-Encoding": "dcz",
      "Available-Dictionary": v2Hash,
    });
    expect(response.headers.get("content-encoding")).toBe("dcz");
    expect(new TextDecoder().decode(decodeDelta("dcz", v2Bytes, response.body))).toBe(V1);
  });
});

describe("an explicit dictionary from _headers (RFC 9842 §2.1)", () => {
  const SHARED = Array.from(
    { length: 400 },
    (_, i) => `<section class="card"><h2>Heading ${i}</h2><p>Common page text.</p></section>\n`,
  ).join("");
  const PAGE = `<!doctype html><title>A</title>${SHARED.slice(0, 20_000)}<p>only on this page</p>`;
  let site: ReturnType<typeof createFixtureSite>;
  let running: TestServer;
  beforeAll(async () => {
    site = createFixtureSite({
      _headers:
        '/dict/pages.dict\n  Use-As-Dictionary: match="/pages/*", id="pages-1"\n  Cache-Control: public, max-age=86400\n',
      "dict/pages.dict": SHARED,
      "pages/a.html": PAGE,
    });
    running = await startTestServer(site.root, {}, { dictionaryVersions: 3 });
  });
  afterAll(async () => {
    await running.server.stop(1000);
    site.cleanup();
  });

  test("the file announces the match it was given; the pages it matches get deltas against it", async () => {
    const dict = await rawGet(running.port, "/dict/pages.dict", {});
    expect(dict.headers.get("use-as-dictionary")).toBe('match="/pages/*", id="pages-1"');
    const shared = new TextEncoder().encode(SHARED);
    const response = await rawGet(running.port, "/pages/a.html", {
      "Accept-Encoding": "gzip, br, dcb",
      "Available-Dictionary": formatHash(dictionaryHash(shared)),
    });
    expect(response.headers.get("content-encoding")).toBe("dcb");
    expect(new TextDecoder().decode(decodeDelta("dcb", shared, response.body))).toBe(PAGE);
    // A page it does not match has none.
    const other = await rawGet(running.port, "/css/site.css", {
      "Accept-Encoding": "gzip, br, dcb",
      "Available-Dictionary": formatHash(dictionaryHash(shared)),
    });
    expect(other.headers.get("content-encoding")).not.toBe("dcb");
  });
});
