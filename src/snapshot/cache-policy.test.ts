import { describe, expect, test } from "bun:test";
import { cacheControlFor, IMMUTABLE, isContentAddressed, isHashedName } from "./cache-policy.ts";

describe("isHashedName", () => {
  test.each([
    "app.3f9a1c2b.js", // webpack [contenthash:8]
    "chunk.a1b2c3d4e5.css",
    "main-5f2a9c0e.woff2",
    "main.0123456789abcdef0123.js", // webpack full hash
    "app.3f9a1c2b.min.js",
    "app.3f9a1c2b.js.map",
    "app.3f9a1c2b.chunk.js",
    "vendor-A1B2C3D4E5.js", // upper-case hex
  ])("%s is hashed anywhere", (name) => {
    expect(isHashedName(name, false)).toBe(true);
    expect(isHashedName(name, true)).toBe(true);
  });

  test.each([
    "index-BXmT3kLp.js", // Vite
    "index-BkQ1rX9a.js",
    "index-BkQqrXaa.js", // no digit
    "main-X7KQZ3FA.js", // esbuild base32
    "index-B-kQ1rX9.js", // base64url containing "-"
    "index-Bk_Q1rX9.css", // base64url containing "_"
  ])("%s is hashed in Vite's assets/ only", (name) => {
    expect(isHashedName(name, true)).toBe(true);
    expect(isHashedName(name, false)).toBe(false);
  });

  test.each([
    "banner-Spring24.jpg", // the editable file
    "logo-2024.png",
    "chapter-10.html",
    "report-v2.pdf",
    "bootstrap.min.js",
    "settings.js",
    "my-component.js",
    "jquery-3.7.1.min.js",
    "lodash-4.17.21.min.js",
    "README.md",
    "logo-dark.svg",
    "MyComponent.js",
    "Roboto-Regular.woff2",
    "html5shiv.js", // digit + letters, but no delimiter: a name
    "font-awesome4.css", // lower-case word with a digit
    "lib-utf8test.js",
    "bootstrap-datepicker3.min.css",
    "photo-20240115.jpg", // a date: digits only
    "cafe-deadbeef.png", // hex letters only
    "cover-MyPhotos.png", // two words
    "3f9a1c2b.js", // known miss: no name before the hash
    "LICENSE",
    "app.3f9a1c2b", // hash as the extension
    "",
  ])("%s is not hashed, even in assets/", (name) => {
    expect(isHashedName(name, true)).toBe(false);
  });
});

describe("isContentAddressed", () => {
  test.each([
    "/assets/index-BXmT3kLp.js", // Vite
    "/_next/static/chunks/main-app.js", // Next.js
    "/_next/static/css/app.css",
    "/_app/immutable/entry/start.js", // SvelteKit
    "/_astro/index.Cx8vY2dL.css", // Astro
    "/_nuxt/entry.js", // Nuxt
    "/js/app.3f9a1c2b.js", // webpack
  ])("%s is immutable", (path) => {
    expect(isContentAddressed(path)).toBe(true);
  });

  test.each([
    "/banner-Spring24.jpg",
    "/img/banner-Spring24.jpg",
    "/assets/banner-Spring24.jpg",
    "/logo-2024.png",
    "/chapter-10.html",
    "/report-v2.pdf",
    "/_nuxt/builds/latest.json", // changes every deploy
    "/_astro/page.html", // HTML names the rest
    "/page.3f9a1c2b.html",
    "/next/static/app.js", // not the framework's directory
  ])("%s is not", (path) => {
    expect(isContentAddressed(path)).toBe(false);
  });
});

describe("cacheControlFor", () => {
  const opts = { maxAge: 3600, override: undefined };

  test("override wins over every rule", () => {
    const override = { maxAge: 3600, override: "no-store" };
    expect(cacheControlFor("/app.3f9a1c2b.js", "text/javascript", override)).toBe("no-store");
    expect(cacheControlFor("/index.html", "text/html; charset=utf-8", override)).toBe("no-store");
    expect(cacheControlFor("/a.css", "text/css", override)).toBe("no-store");
  });

  test("hashed names are immutable for a year", () => {
    expect(cacheControlFor("/assets/app.3f9a1c2b.js", "text/javascript", opts)).toBe(IMMUTABLE);
    expect(IMMUTABLE).toBe("public, max-age=31536000, immutable");
  });

  test("only the file name is checked, not directories", () => {
    expect(cacheControlFor("/v-3f9a1c2b/app.js", "text/javascript", opts)).toBe(
      "public, max-age=3600",
    );
  });

  test("HTML is revalidated", () => {
    expect(cacheControlFor("/index.html", "text/html; charset=utf-8", opts)).toBe("no-cache");
    expect(cacheControlFor("/docs/page.htm", "text/html", opts)).toBe("no-cache");
    expect(cacheControlFor("/page.xhtml", "application/xhtml+xml", opts)).toBe(
      "public, max-age=3600",
    );
  });

  test("everything else gets the configured max-age", () => {
    expect(cacheControlFor("/logo.svg", "image/svg+xml", opts)).toBe("public, max-age=3600");
    expect(cacheControlFor("/a.css", "text/css", { maxAge: 0, override: undefined })).toBe(
      "public, max-age=0",
    );
  });
});
