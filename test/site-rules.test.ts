import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixtureSite, ENGINES, startTestServer, type TestServer } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

// The bundled example (examples/rules-site) holds every rule kind, each commented; every engine
// serves it as it is in the repository.
const RULES_SITE = join(import.meta.dir, "..", "examples", "rules-site");
const INDEX_HTML = readFileSync(join(RULES_SITE, "index.html"), "utf8");

describe.each(ENGINES)("%s engine: _redirects and _headers", (engine) => {
  let running: TestServer;
  beforeAll(async () => {
    running = await startTestServer(RULES_SITE, { engine });
  });
  afterAll(async () => {
    await running.server.stop(1000);
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    rawGet(running.port, path, headers);

  test("neither rule file is ever served", async () => {
    for (const path of ["/_redirects", "/_headers"]) {
      const response = await get(path);
      // `/*` rewrites unknown paths to the index: the files themselves are not there.
      expect(new TextDecoder().decode(response.body)).toBe(INDEX_HTML);
    }
    expect(running.snapshot.assets.has("/_redirects")).toBe(false);
  });

  test("redirects with Location, the request's query kept unless the target has one", async () => {
    const moved = await get("/old-page?a=1");
    expect([moved.status, moved.headers.get("location")]).toEqual([301, "/docs/?a=1"]);
    const temp = await get("/temp/");
    expect([temp.status, temp.headers.get("location")]).toEqual([302, "/css/site.css"]);
    const own = await get("/q?a=1");
    expect(own.headers.get("location")).toBe("/docs/?from=q");
    const post = await get("/blog/2024/hello-world");
    expect([post.status, post.headers.get("location")]).toEqual([301, "/posts/2024/hello-world"]);
    const news = await get("/news/a%20b/c");
    expect([news.status, news.headers.get("location")]).toEqual([
      308,
      "https://news.example.com/a%20b/c",
    ]);
  });

  test("an existing file shadows a rule unless it is forced", async () => {
    const css = await get("/css/site.css");
    expect(css.status).toBe(200);
    const forced = await get("/index.html");
    expect([forced.status, forced.headers.get("location")]).toEqual([301, "/"]);
    // The directory form of the same file is not the forced rule's path.
    expect((await get("/")).status).toBe(200);
  });

  test("200 rewrites serve a snapshot file under the requested URL, with its validators", async () => {
    const app = await get("/app/settings/profile");
    expect(app.status).toBe(200);
    expect(new TextDecoder().decode(app.body)).toContain("A single-page app");
    const etag = app.headers.get("etag") ?? "";
    const again = await get("/app/other", { "If-None-Match": etag });
    expect(again.status).toBe(304);
    const range = await get("/app/x", { Range: "bytes=0-8", "Accept-Encoding": "identity" });
    expect([range.status, new TextDecoder().decode(range.body)]).toEqual([206, "<!doctype"]);
    // The catch-all rewrite: any unknown path is the index.
    expect(new TextDecoder().decode((await get("/no/such/page")).body)).toBe(INDEX_HTML);
  });

  test("a 404 rule serves its file with status 404; a rewrite to a missing file is a 404", async () => {
    const gone = await get("/retired/anything");
    expect(gone.status).toBe(404);
    expect(new TextDecoder().decode(gone.body)).toContain("This section is gone");
    expect(gone.headers.get("etag")).toBeUndefined();
    const missing = await get("/missing-rewrite/x");
    expect(missing.status).toBe(404);
    expect(new TextDecoder().decode(missing.body)).toContain("Nothing here.");
  });

  test("_headers: every matching block applies, repeated names joined, Cache-Control replaced", async () => {
    const css = await get("/css/site.css", { "Accept-Encoding": "br" });
    expect(css.headers.get("x-frame-options")).toBe("DENY");
    expect(css.headers.get("link")).toBe(
      "</css/site.css>; rel=preload; as=style, </fonts/site.woff2>; rel=preload; as=font; crossorigin",
    );
    expect(css.headers.get("cache-control")).toBe("public, max-age=60");
    expect(css.headers.get("content-encoding")).toBe("br");
    const html = await get("/docs/");
    expect(html.headers.get("x-docs")).toBe("yes");
    expect(html.headers.get("cache-control")).toBe("no-cache");
  });

  test("_headers: ! removes; Vary merges with accept-encoding; 304s carry the rule's fields", async () => {
    const page = await get("/retired/gone.html");
    expect(page.headers.get("x-frame-options")).toBeUndefined();
    expect(page.headers.get("vary")).toBe("accept-encoding, Cookie");
    const css = await get("/css/site.css");
    const notModified = await get("/css/site.css", {
      "If-None-Match": css.headers.get("etag") ?? "",
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("cache-control")).toBe("public, max-age=60");
    expect(notModified.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe.each(ENGINES)("%s engine: --clean-urls --trailing-slash never", (engine) => {
  let site: ReturnType<typeof createFixtureSite>;
  let running: TestServer;
  beforeAll(async () => {
    site = createFixtureSite({ "about.html": "<!doctype html><title>About</title>" });
    running = await startTestServer(site.root, {
      engine,
      cleanUrls: true,
      trailingSlash: "never",
    });
  });
  afterAll(async () => {
    await running.server.stop(1000);
    site.cleanup();
  });

  test("/about serves about.html; the .html and slashed forms redirect, keeping the query", async () => {
    const page = await rawGet(running.port, "/about");
    expect([page.status, new TextDecoder().decode(page.body)]).toEqual([
      200,
      "<!doctype html><title>About</title>",
    ]);
    const named = await rawGet(running.port, "/about.html?x=1");
    expect([named.status, named.headers.get("location")]).toEqual([301, "./about?x=1"]);
    const docs = await rawGet(running.port, "/docs/");
    expect([docs.status, docs.headers.get("location")]).toEqual([301, "../docs"]);
    expect((await rawGet(running.port, "/docs")).status).toBe(200);
  });
});
