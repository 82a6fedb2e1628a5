import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, realpath, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type BuildOptions, buildSnapshot } from "./build.ts";
import { compress, decompress } from "./compress.ts";
import type { Asset, Snapshot } from "./types.ts";

const isRoot = process.getuid?.() === 0;
const encoder = new TextEncoder();
const css = encoder.encode(
  Array.from({ length: 300 }, (_, i) => `.c${i} { margin: ${i}px; color: red; }\n`).join(""),
);
const html = encoder.encode(
  `<!doctype html><title>x</title>${"<p>hello memserve</p>\n".repeat(80)}`,
);
const js = encoder.encode("export const answer = () => 42;\n".repeat(60));
const png = Uint8Array.from(
  { length: 3000 },
  (_, i) => (Math.imul(i + 7, 2654435761) >>> 11) & 0xff,
);
// 2020-01-02T03:04:05.678Z: the fraction must be dropped.
const MTIME = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678));

let base: string;
let root: string;
let snapshot: Snapshot;
const warnings: string[] = [];
const options: BuildOptions = {
  maxAge: 600,
  cacheControl: undefined,
  extraHeaders: { "X-Frame-Options": "DENY", Vary: "Origin" },
  onWarning: (message) => warnings.push(message),
};

async function put(path: string, bytes: Uint8Array | string): Promise<void> {
  const full = join(root, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, bytes);
  await utimes(full, MTIME, MTIME);
}

const asset = (path: string): Asset => {
  const found = snapshot.assets.get(path);
  if (found === undefined) throw new Error(`missing asset ${path}`);
  return found;
};

const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), "memserve-build-")));
  root = join(base, "site");
  await put("index.html", html);
  await put("404.html", html);
  await put("css/app.css", css);
  await put("tiny.css", "a{}");
  await put("assets/app.3f9a1c2b.js", js);
  await put("assets/index-BkQ1rX9a.js", js);
  await put("img/logo.png", png);
  await put("empty.txt", "");
  await put("odd name #1 100%.txt", css);
  await put("pre.js", js);
  await put("pre.js.br", await compress(js, "br", "fast")); // valid: used as is
  await put("pre.js.gz", await compress(encoder.encode("stale"), "gzip", "fast")); // invalid
  await put("orphan.txt.gz", await compress(css, "gzip", "fast"));
  await put(".env", "SECRET=1");
  await put(".git/config", "[core]");
  await put(".well-known/security.txt", "Contact: mailto:x@example.com");
  await mkdir(join(base, "outside"));
  await writeFile(join(base, "outside/secret.txt"), "secret");
  await symlink("css/app.css", join(root, "link-in.css"));
  await symlink("../outside/secret.txt", join(root, "link-out.txt"));
  snapshot = await buildSnapshot(root, options);
});

afterAll(() => rm(base, { recursive: true, force: true }));

describe("buildSnapshot", () => {
  test("serves every regular file except dotfiles and sidecars of existing files", () => {
    expect([...snapshot.assets.keys()]).toEqual([
      "/.well-known/security.txt",
      "/404.html",
      "/assets/app.3f9a1c2b.js",
      "/assets/index-BkQ1rX9a.js",
      "/css/app.css",
      "/empty.txt",
      "/img/logo.png",
      "/index.html",
      "/link-in.css",
      "/odd name #1 100%.txt",
      "/orphan.txt.gz",
      "/pre.js",
      "/tiny.css",
    ]);
  });

  test("reports skipped links and ignored sidecars", () => {
    expect(warnings).toEqual([
      `skipped symlink outside root: link-out.txt -> ${join(base, "outside/secret.txt")}`,
      "ignored sidecar pre.js.gz: does not decode to the same bytes; compressing instead",
    ]);
  });

  test("a compressible asset has exact 200 and 304 header sets per variant", () => {
    const a = asset("/css/app.css");
    expect(a.contentType).toBe("text/css; charset=utf-8");
    expect(a.lastModified).toBe(Date.UTC(2020, 0, 2, 3, 4, 5));
    const br = a.variants.find((v) => v.encoding === "br");
    expect(br?.headers).toEqual({
      "content-type": "text/css; charset=utf-8",
      "content-length": String(br?.size),
      "content-encoding": "br",
      etag: br?.etag ?? "",
      "last-modified": "Thu, 02 Jan 2020 03:04:05 GMT",
      "cache-control": "public, max-age=600",
      "accept-ranges": "bytes",
      vary: "accept-encoding, Origin",
      "x-frame-options": "DENY",
    });
    expect(Object.keys(a.identity.headers)).toEqual([
      "content-type",
      "content-length",
      "etag",
      "last-modified",
      "cache-control",
      "accept-ranges",
      "vary",
      "x-frame-options",
    ]);
    expect(a.identity.headers["content-length"]).toBe(String(css.length));
    expect(a.identity.notModifiedHeaders).toEqual({
      etag: a.identity.etag,
      "last-modified": "Thu, 02 Jan 2020 03:04:05 GMT",
      "cache-control": "public, max-age=600",
      vary: "accept-encoding, Origin",
      "x-frame-options": "DENY",
    });
  });

  test("an incompressible asset has one variant and no Vary from memserve", () => {
    const a = asset("/img/logo.png");
    expect(a.variants).toEqual([a.identity]);
    expect(a.identity.headers).toEqual({
      "content-type": "image/png",
      "content-length": "3000",
      etag: a.identity.etag,
      "last-modified": "Thu, 02 Jan 2020 03:04:05 GMT",
      "cache-control": "public, max-age=600",
      "accept-ranges": "bytes",
      vary: "Origin",
      "x-frame-options": "DENY",
    });
  });

  test("empty files and files too small to gain have identity only", () => {
    expect(asset("/empty.txt").variants.map((v) => v.encoding)).toEqual(["identity"]);
    expect(asset("/empty.txt").identity.headers["content-length"]).toBe("0");
    expect(asset("/tiny.css").variants.map((v) => v.encoding)).toEqual(["identity"]);
  });

  test("every variant decodes to the file, sorted by size, with its own ETag", async () => {
    for (const a of snapshot.assets.values()) {
      const raw = await Bun.file(join(root, a.path)).bytes();
      expect(await bytesOf(a.identity.body)).toEqual(raw);
      expect(a.identity.size).toBe(raw.length);
      for (const v of a.variants) {
        expect(v.body.size).toBe(v.size);
        if (v.encoding !== "identity") {
          expect(decompress(await bytesOf(v.body), v.encoding)).toEqual(raw);
        }
      }
      const sizes = a.variants.map((v) => v.size);
      expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
      expect(new Set(a.variants.map((v) => v.etag)).size).toBe(a.variants.length);
    }
  });

  test("compressible text gets all three codings", () => {
    for (const path of ["/css/app.css", "/index.html", "/pre.js", "/odd name #1 100%.txt"]) {
      expect(
        asset(path)
          .variants.map((v) => v.encoding)
          .sort(),
      ).toEqual(["br", "gzip", "identity", "zstd"]);
    }
  });

  test("a valid sidecar is used byte for byte; an invalid one is replaced", async () => {
    const a = asset("/pre.js");
    const br = a.variants.find((v) => v.encoding === "br");
    expect(await bytesOf(br?.body ?? new Blob())).toEqual(
      await Bun.file(join(root, "pre.js.br")).bytes(),
    );
    const gz = a.variants.find((v) => v.encoding === "gzip");
    expect(decompress(await bytesOf(gz?.body ?? new Blob()), "gzip")).toEqual(js);
  });

  test("Cache-Control: hashed names immutable, HTML revalidated, others max-age", () => {
    const cc = (path: string) => asset(path).identity.headers["cache-control"];
    expect(cc("/assets/app.3f9a1c2b.js")).toBe("public, max-age=31536000, immutable");
    expect(cc("/assets/index-BkQ1rX9a.js")).toBe("public, max-age=31536000, immutable");
    expect(cc("/index.html")).toBe("no-cache");
    expect(cc("/pre.js")).toBe("public, max-age=600");
    expect(asset("/index.html").variants[0]?.notModifiedHeaders["cache-control"]).toBe("no-cache");
  });

  test("a symlink inside the root serves the target's bytes under its own name", () => {
    expect(asset("/link-in.css").identity.etag).toBe(asset("/css/app.css").identity.etag);
    expect(asset("/link-in.css").contentType).toBe("text/css; charset=utf-8");
  });

  test("snapshot fields: 404 page, extras, root, stats", () => {
    expect(snapshot.notFoundPage).toBe(asset("/404.html"));
    expect(snapshot.extraHeaders).toEqual({ "x-frame-options": "DENY", vary: "Origin" });
    expect(snapshot.root).toBe(root);
    const { stats } = snapshot;
    expect(stats.files).toBe(13);
    expect(stats.skipped).toBe(1);
    const sum = (encoding: string) =>
      [...snapshot.assets.values()]
        .flatMap((a) => a.variants)
        .filter((v) => v.encoding === encoding)
        .reduce((total, v) => total + v.size, 0);
    expect(stats.rawBytes).toBe(sum("identity"));
    expect(stats.bytesByEncoding).toEqual({
      br: sum("br"),
      zstd: sum("zstd"),
      gzip: sum("gzip"),
      identity: sum("identity"),
    });
    expect(stats.buildMs).toBeGreaterThanOrEqual(0);
  });

  test("everything is frozen", () => {
    const a = asset("/css/app.css");
    for (const value of [snapshot, snapshot.stats, snapshot.extraHeaders, a, a.variants]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    for (const v of a.variants) {
      expect([v, v.headers, v.notModifiedHeaders].every(Object.isFrozen)).toBe(true);
    }
  });
});

describe("buildSnapshot options", () => {
  test("a Cache-Control override applies to every file", async () => {
    const s = await buildSnapshot(join(root, "assets"), {
      ...options,
      cacheControl: "no-store",
      compressionLevel: "fast",
    });
    for (const a of s.assets.values()) {
      for (const v of a.variants) expect(v.headers["cache-control"]).toBe("no-store");
    }
  });

  test("extra headers that memserve computes are a startup error", async () => {
    const build = (extraHeaders: Record<string, string>) =>
      buildSnapshot(join(root, "img"), { ...options, extraHeaders });
    await expect(build({ "Content-Length": "1" })).rejects.toThrow(/content-length cannot be set/);
    await expect(build({ ETag: '"x"' })).rejects.toThrow(/etag cannot be set/);
    const s = await build({ "Access-Control-Allow-Origin": "*" });
    expect(s.extraHeaders).toEqual({ "access-control-allow-origin": "*" });
  });

  test("malformed extra headers are a startup error", async () => {
    const bad = (extraHeaders: Record<string, string>) =>
      buildSnapshot(root, { ...options, extraHeaders });
    await expect(bad({ "Bad Name": "x" })).rejects.toThrow('invalid header name: "Bad Name"');
    await expect(bad({ "X-Ok": "a\r\nSet-Cookie: x" })).rejects.toThrow(
      "invalid value for header X-Ok",
    );
  });

  test("a root that is not a directory is an error", async () => {
    await expect(buildSnapshot(join(root, "index.html"), options)).rejects.toThrow(
      "not a directory",
    );
  });

  // Root reads through permission bits; this runs as any other user.
  test.skipIf(isRoot)("an unreadable file is skipped, warned about and counted", async () => {
    const dir = join(base, "locked-file");
    await mkdir(dir);
    await writeFile(join(dir, "ok.txt"), "ok");
    await writeFile(join(dir, "no.txt"), "no");
    await chmod(join(dir, "no.txt"), 0o000);
    const seen: string[] = [];
    const s = await buildSnapshot(dir, { ...options, onWarning: (m) => seen.push(m) });
    expect([...s.assets.keys()]).toEqual(["/ok.txt"]);
    expect(s.stats.skipped).toBe(1);
    expect(seen).toEqual(["cannot read no.txt: EACCES"]);
  });
});
