// The embeddable API (`import { createSite } from "memserve"`): each example in examples/embed
// (Bun.serve, Hono, Elysia) serves the fixture site with memserve's semantics beside its own route.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { start as startBunServe } from "../examples/embed/bun-serve.ts";
import { start as startElysia } from "../examples/embed/elysia.ts";
import { start as startHono } from "../examples/embed/hono.ts";
import { createSite } from "../src/index.ts";
import { createFixtureSite, INDEX_HTML } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

const EXAMPLES = { "Bun.serve": startBunServe, Hono: startHono, Elysia: startElysia } as const;

describe.each(Object.entries(EXAMPLES))("examples/embed with %s", (_, start) => {
  let site: ReturnType<typeof createFixtureSite>;
  let app: { readonly server: { readonly port?: number | undefined }; stop(): unknown };
  let port: number;
  beforeAll(async () => {
    site = createFixtureSite();
    app = await start(site.root, 0);
    port = Number(app.server.port);
  });
  afterAll(() => {
    app.stop();
    site.cleanup();
  });

  test("the app's own route and the site side by side", async () => {
    const api = await rawGet(port, "/api/time");
    expect(api.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(api.body)).now).toBeNumber();
    const index = await rawGet(port, "/", { "Accept-Encoding": "identity" });
    expect(new TextDecoder().decode(index.body)).toBe(INDEX_HTML);
  });

  test("negotiation, validators, ranges and 404 as memserve answers them", async () => {
    const css = await rawGet(port, "/css/site.css", { "Accept-Encoding": "gzip, br" });
    expect(css.headers.get("content-encoding")).toBe("br");
    expect(css.headers.get("vary")).toBe("accept-encoding");
    const again = await rawGet(port, "/css/site.css", {
      "Accept-Encoding": "gzip, br",
      "If-None-Match": css.headers.get("etag") ?? "",
    });
    expect(again.status).toBe(304);
    const part = await rawGet(port, "/img/photo.png", { Range: "bytes=0-9" });
    expect([part.status, part.body.length]).toEqual([206, 10]);
    expect((await rawGet(port, "/no/such/file")).status).toBe(404);
    expect((await rawGet(port, "/../etc/passwd")).status).toBeGreaterThanOrEqual(400);
  });

  test("HEAD: the headers of a GET, no body", async () => {
    const head = await rawGet(port, "/css/site.css", { "Accept-Encoding": "br" }, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-encoding")).toBe("br");
    expect(head.body.length).toBe(0);
  });
});

describe("createSite", () => {
  test("reload() swaps in what changed; options are the CLI's", async () => {
    const site = createFixtureSite({ "about.html": "<!doctype html><title>About</title>" });
    try {
      const served = await createSite(site.root, {
        cleanUrls: true,
        headers: { "X-Site": "1" },
        compression: "max",
      });
      const get = (path: string) => served.fetch(new Request(`http://localhost${path}`));
      const about = get("/about");
      expect(about.status).toBe(200);
      expect(about.headers.get("x-site")).toBe("1");
      expect(get("/about.html").status).toBe(301);
      writeFileSync(join(site.root, "new.txt"), "fresh");
      expect(get("/new.txt").status).toBe(404);
      await served.reload();
      expect(await get("/new.txt").text()).toBe("fresh");
      served.close();
    } finally {
      site.cleanup();
    }
  });

  test("a directory that is not there is an error", async () => {
    await expect(createSite("/nonexistent/memserve-site")).rejects.toThrow();
  });
});
