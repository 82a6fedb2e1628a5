import { describe, expect, test } from "bun:test";
import { ENGINES, INDEX_HTML, startTestServer, useFixtureServer } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

describe.each(ENGINES)("%s engine", (engine) => {
  const t = useFixtureServer({ engine }, { extraHeaders: { "x-frame-options": "DENY" } });

  const text = (body: Uint8Array) => new TextDecoder().decode(body);

  describe("paths: decoding and traversal (never a file outside the root)", () => {
    const hostile = [
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/css%2fsite.css",
      "/index.html%00.png",
      "/..%5c..%5cetc%5cpasswd",
      "/..\\..\\etc\\passwd",
      "/%252e%252e/etc/passwd",
      "/leak.txt",
      "/.env",
      "/.git/config",
      "/%2eenv",
    ];
    test.each(hostile)("%s is refused with 400 or 404", async (target) => {
      const res = await rawGet(t.port, target);
      expect([400, 404]).toContain(res.status);
      expect(text(res.body)).not.toContain("outside-the-root");
      expect(text(res.body)).not.toContain("SECRET");
      expect(text(res.body)).not.toContain("root:");
    });

    test("dot segments inside the root resolve", async () => {
      const res = await rawGet(t.port, "/docs/../css/./site.css");
      expect(res.status).toBe(200);
    });

    test("percent-encoded and unicode names are decoded once", async () => {
      const res = await rawGet(t.port, `/${encodeURIComponent("odd name #1 ü%.txt")}`);
      expect(res.status).toBe(200);
      expect(text(res.body)).toBe("odd but fine\n");
    });

    test("the query is ignored", async () => {
      const res = await rawGet(t.port, "/index.html?v=1&x=../../etc/passwd");
      expect(text(res.body)).toBe(INDEX_HTML);
    });

    test("a symlink inside the root is served", async () => {
      expect((await rawGet(t.port, "/inside-link.css")).status).toBe(200);
    });

    test("/.well-known/ is served although it is a dot-directory", async () => {
      const res = await rawGet(t.port, "/.well-known/security.txt");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    });

    test("an empty file is a 200 with Content-Length: 0", async () => {
      const res = await rawGet(t.port, "/empty.txt");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-length")).toBe("0");
    });
  });

  describe("directories", () => {
    test("/ serves index.html with Cache-Control: no-cache", async () => {
      const res = await rawGet(t.port, "/");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
    });

    test("/docs/ serves docs/index.html", async () => {
      expect(text((await rawGet(t.port, "/docs/")).body)).toContain("docs");
    });

    test("/docs redirects to ./docs/ keeping the query (same-origin relative Location)", async () => {
      const res = await rawGet(t.port, "/docs?x=1");
      expect(res.status).toBe(301);
      expect(res.headers.get("location")).toBe("./docs/?x=1");
    });

    test("//docs never becomes a protocol-relative redirect", async () => {
      const res = await rawGet(t.port, "//docs");
      const location = res.headers.get("location");
      if (location !== undefined) expect(location.startsWith("//")).toBe(false);
    });

    test("a 404.html at the root is the body of 404s", async () => {
      const res = await rawGet(t.port, "/no/such/page");
      expect(res.status).toBe(404);
      expect(text(res.body)).toContain("Nothing here.");
      expect(res.headers.get("etag")).toBeUndefined();
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    });
  });

  describe("Cache-Control defaults", () => {
    test("hashed names are immutable for a year", async () => {
      const res = await rawGet(t.port, "/assets/app.3f9a1c2b.js");
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    });

    test("other files get the modest max-age", async () => {
      expect((await rawGet(t.port, "/img/photo.png")).headers.get("cache-control")).toBe(
        "public, max-age=3600",
      );
    });
  });

  describe("RFC 9110 §9 methods", () => {
    test.each(["GET", "HEAD"])("%s: Date on every response", async (method) => {
      const res = await rawGet(t.port, "/", {}, method);
      expect(res.headers.get("date")).toMatch(/GMT$/);
    });

    test("HEAD has the same headers as GET and no body", async () => {
      const get = await rawGet(t.port, "/css/site.css", { "accept-encoding": "br" });
      const head = await rawGet(t.port, "/css/site.css", { "accept-encoding": "br" }, "HEAD");
      expect(head.body.byteLength).toBe(0);
      const strip = (h: Map<string, string>) => [...h].filter(([k]) => k !== "date").sort();
      expect(strip(head.headers)).toEqual(strip(get.headers));
    });

    test.each(["POST", "PUT", "DELETE", "PATCH"])("%s: 405 with Allow", async (method) => {
      const res = await rawGet(t.port, "/index.html", {}, method);
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    });

    test("OPTIONS: 204 with Allow", async () => {
      const res = await rawGet(t.port, "/index.html", {}, "OPTIONS");
      expect(res.status).toBe(204);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    });

    test("--header values are on 200, 304, 404 and 405", async () => {
      const ok = await rawGet(t.port, "/css/site.css");
      expect(ok.headers.get("x-frame-options")).toBe("DENY");
      const nm = await rawGet(t.port, "/css/site.css", {
        "if-none-match": ok.headers.get("etag") ?? "",
      });
      expect(nm.status).toBe(304);
      expect(nm.headers.get("x-frame-options")).toBe("DENY");
    });
  });

  describe("--spa", () => {
    test("extension-less unknown paths get /index.html; unknown files stay 404", async () => {
      const spa = await startTestServer(t.root, { engine, spa: true });
      try {
        const route = await rawGet(spa.port, "/app/settings/profile");
        expect(route.status).toBe(200);
        expect(text(route.body)).toBe(INDEX_HTML);
        expect((await rawGet(spa.port, "/missing.js")).status).toBe(404);
      } finally {
        await spa.server.stop(1000);
      }
    });
  });
});
