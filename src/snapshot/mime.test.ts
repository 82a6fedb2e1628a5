import { describe, expect, test } from "bun:test";
import { contentTypeFor } from "./mime.ts";

describe("contentTypeFor", () => {
  test.each([
    ["/app.js", "text/javascript; charset=utf-8", true],
    ["/app.mjs", "text/javascript; charset=utf-8", true],
    ["/lib.wasm", "application/wasm", true],
    ["/index.html", "text/html; charset=utf-8", true],
    ["/site.css", "text/css; charset=utf-8", true],
    ["/notes.txt", "text/plain; charset=utf-8", true],
    ["/README.md", "text/markdown; charset=utf-8", true],
    ["/data.csv", "text/csv; charset=utf-8", true],
    ["/data.json", "application/json; charset=utf-8", true],
    ["/app.js.map", "application/json; charset=utf-8", true],
    ["/site.webmanifest", "application/manifest+json; charset=utf-8", true],
    ["/logo.svg", "image/svg+xml", true],
    ["/feed.xml", "application/xml", true],
    ["/feed.atom", "application/atom+xml", true],
    ["/font.ttf", "font/ttf", true],
  ])("%s -> %s (compressible)", (path, type, compressible) => {
    expect(contentTypeFor(path)).toEqual({ type, compressible });
  });

  test.each([
    ["/font.woff2", "font/woff2"],
    ["/font.woff", "font/woff"],
    ["/a.png", "image/png"],
    ["/a.jpg", "image/jpeg"],
    ["/a.jpeg", "image/jpeg"],
    ["/a.gif", "image/gif"],
    ["/a.webp", "image/webp"],
    ["/a.avif", "image/avif"],
    ["/a.zip", "application/zip"],
    ["/a.tar.gz", "application/gzip"],
    ["/a.mp4", "video/mp4"],
    ["/a.mp3", "audio/mpeg"],
    ["/a.pdf", "application/pdf"],
  ])("%s -> %s (not compressible)", (path, type) => {
    expect(contentTypeFor(path)).toEqual({ type, compressible: false });
  });

  test("unknown or missing extensions are opaque bytes, not compressed", () => {
    const unknown = { type: "application/octet-stream", compressible: false };
    expect(contentTypeFor("/file.unknownext")).toEqual(unknown);
    expect(contentTypeFor("/LICENSE")).toEqual(unknown);
    expect(contentTypeFor("/dir.d/Makefile")).toEqual(unknown);
    expect(contentTypeFor("/.env")).toEqual(unknown);
    expect(contentTypeFor("/app.js.br")).toEqual(unknown);
  });

  test("mime-db's octet-stream for opaque binaries is not compressible", () => {
    expect(contentTypeFor("/setup.exe")).toEqual({
      type: "application/octet-stream",
      compressible: false,
    });
  });

  test("extensions are case-insensitive", () => {
    expect(contentTypeFor("/LOGO.PNG").type).toBe("image/png");
    expect(contentTypeFor("/Index.HTML").type).toBe("text/html; charset=utf-8");
  });

  test("prefers IANA types and standard trees when several claim an extension", () => {
    expect(contentTypeFor("/a.zip").type).toBe("application/zip"); // not x-zip-compressed
    expect(contentTypeFor("/a.mp3").type).toBe("audio/mpeg"); // not audio/mp3
    expect(contentTypeFor("/a.rtf").type).toBe("application/rtf"); // not text/rtf
  });

  test("only the last path segment decides", () => {
    expect(contentTypeFor("/v1.2/LICENSE").type).toBe("application/octet-stream");
    expect(contentTypeFor("/assets.css/app.js").type).toBe("text/javascript; charset=utf-8");
  });

  test("returns shared frozen objects", () => {
    expect(Object.isFrozen(contentTypeFor("/a.css"))).toBe(true);
    expect(contentTypeFor("/a.css")).toBe(contentTypeFor("/b.css"));
  });
});
