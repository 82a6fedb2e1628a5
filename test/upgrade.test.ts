import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import { DEFAULT_HANDLER_OPTIONS } from "../src/http/decide.ts";
import { startServer } from "../src/server/start-server.ts";
import { buildSnapshot } from "../src/snapshot/build.ts";
import { strongEtag } from "../src/snapshot/etag.ts";
import type { Encoding } from "../src/snapshot/types.ts";
import { upgradeSnapshot } from "../src/snapshot/upgrade.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

/** Varied text (not one repeated line), so maximum quality really beats the fast levels. */
function prose(seed: number, lines: number): string {
  const words = [
    "static",
    "memory",
    "brotli",
    "server",
    "snapshot",
    "variant",
    "request",
    "header",
  ];
  let state = seed;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const line: string[] = [];
    for (let w = 0; w < 12; w++) {
      state = (state * 1103515245 + 12345) >>> 0;
      line.push(`${words[state % words.length]}${state % 97}`);
    }
    out.push(`.rule-${i} { content: "${line.join(" ")}"; }`);
  }
  return out.join("\n");
}

const FILES: Record<string, string> = {};
for (let i = 0; i < 12; i++) FILES[`css/part-${i}.css`] = prose(i + 1, 3000);

let site: ReturnType<typeof createFixtureSite>;
beforeAll(() => {
  site = createFixtureSite(FILES);
});
afterAll(() => site.cleanup());

const build = () =>
  buildSnapshot(site.root, {
    maxAge: 60,
    cacheControl: undefined,
    extraHeaders: {},
    compressionLevel: "fast",
    onWarning: () => {},
  });

const decode: Record<Encoding, (bytes: Uint8Array) => Uint8Array> = {
  br: brotliDecompressSync,
  gzip: gunzipSync,
  zstd: zstdDecompressSync,
  identity: (bytes) => bytes,
};

describe("upgradeSnapshot (two-phase readiness)", () => {
  test("maximum quality is never larger; unchanged assets keep their objects; the old snapshot is untouched", async () => {
    const fast = await build();
    const fastSizes = [...fast.assets.values()].map((a) => a.variants.map((v) => v.size));
    const best = await upgradeSnapshot(fast);
    expect(best).not.toBe(fast);
    expect([...fast.assets.values()].map((a) => a.variants.map((v) => v.size))).toEqual(fastSizes);
    for (const [path, asset] of best.assets) {
      const before = fast.assets.get(path);
      for (const variant of asset.variants) {
        const old = before?.variants.find((v) => v.encoding === variant.encoding);
        if (old !== undefined) expect(variant.size).toBeLessThanOrEqual(old.size);
        expect(variant.etag).toBe(strongEtag(variant.bytes, variant.encoding));
      }
    }
    expect(best.assets.get("/img/photo.png")).toBe(fast.assets.get("/img/photo.png") as never);
    const css = (s: typeof fast) => s.assets.get("/css/part-0.css")?.variants[0];
    expect(css(best)?.size).toBeLessThan(css(fast)?.size ?? 0);
    expect(css(best)?.etag).not.toBe(css(fast)?.etag);
    // The identity bytes did not change: same variant, same ETag, same prepared response.
    const identity = (s: typeof fast) => s.assets.get("/css/part-0.css")?.identity;
    expect(identity(best)).toBe(identity(fast) as never);
    expect(best.stats.bytesByEncoding.br).toBeLessThan(fast.stats.bytesByEncoding.br);
  }, 60_000);

  test("requests during the swap always get a complete body whose ETag matches its bytes", async () => {
    const fast = await build();
    const server = startServer(fast, {
      port: 0,
      host: "127.0.0.1",
      handler: DEFAULT_HANDLER_OPTIONS,
    });
    let swapped = false;
    let batches = 0;
    const onBatch = (next: typeof fast) => {
      server.replaceSnapshot(next);
      batches++;
    };
    const upgrade = upgradeSnapshot(fast, { onBatch, batchMs: 0 }).then((best) => {
      server.replaceSnapshot(best);
      swapped = true;
    });
    let checked = 0;
    let beforeSwap = 0;
    const deadline = Date.now() + 60_000;
    try {
      // Keep asking until the swap has happened and a few more rounds ran on the new snapshot.
      for (let after = 0; after < 3 && Date.now() < deadline; after += swapped ? 1 : 0) {
        for (const coding of ["br", "zstd", "gzip", "identity"] as const) {
          const path = `/css/part-${checked % 12}.css`;
          const res = await rawGet(server.port, path, { "accept-encoding": coding });
          expect(res.status).toBe(200);
          const encoding = (res.headers.get("content-encoding") ?? "identity") as Encoding;
          expect(new TextDecoder().decode(decode[encoding](res.body))).toBe(
            FILES[path.slice(1)] as string,
          );
          expect(res.headers.get("etag")).toBe(strongEtag(res.body, encoding));
          checked++;
          if (!swapped) beforeSwap++;
        }
      }
      await upgrade;
      expect(swapped).toBe(true);
      // Improved variants were swapped in batch by batch, not only at the end.
      expect(batches).toBeGreaterThan(1);
      // Requests were answered both while the upgrade ran and after the swap.
      expect(beforeSwap).toBeGreaterThan(0);
      expect(checked).toBeGreaterThan(beforeSwap);
    } finally {
      await server.stop(1000);
    }
  }, 90_000);
});
