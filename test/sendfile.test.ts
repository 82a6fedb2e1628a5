/**
 * Bodies by sendfile(2) (src/server/sendfile.ts, connection.ts): random pipelined requests mixing
 * small and large bodies, full and ranged, plain and coded, GET and HEAD, read by clients that
 * pause, every response byte-compared with what the snapshot holds. Then the guarantees that make
 * sendfile safe: a swap (and the old image's deletion) under a send in progress, and the fallback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import { DEFAULT_HANDLER_OPTIONS } from "../src/http/handler.ts";
import { sendfileAvailable, sendfileTotals } from "../src/server/sendfile.ts";
import { type RunningServer, startServer } from "../src/server/start-server.ts";
import { buildSnapshot } from "../src/snapshot/build.ts";
import type { Snapshot } from "../src/snapshot/types.ts";
import { createFixtureSite, mappedSnapshot, noise } from "./support/fixture.ts";
import { parseResponses, type RawResponse } from "./support/raw-http.ts";

const SEED = Number(process.env.MEMSERVE_FUZZ_SEED ?? Date.now() % 1_000_000);

/** Sizes around the interesting edges: empty, a byte, a page, the default threshold, megabytes. */
const FILES: Record<string, Uint8Array | string> = {
  "empty.bin": new Uint8Array(0),
  "one.bin": noise(1, 2),
  "page.bin": noise(4096, 3),
  "under.bin": noise(64 * 1024 - 1, 4),
  "at.bin": noise(64 * 1024, 5),
  "photo.png": noise(300 * 1024, 6),
  "big.mp4": noise(7 * 1024 * 1024, 7),
  "notes.txt": "sendfile and write, in order.\n".repeat(20_000),
};

/** A small deterministic generator, so a failing seed can be rerun. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

interface Ask {
  readonly path: string;
  readonly method: "GET" | "HEAD";
  readonly encoding: string;
  readonly range: [number, number] | undefined;
}

function randomAsk(random: () => number): Ask {
  const names = Object.keys(FILES);
  const path = `/${names[Math.floor(random() * names.length)]}`;
  const size = sizeOf(path);
  const method = random() < 0.1 ? "HEAD" : "GET";
  const encoding = ["identity", "gzip", "br", "zstd", "br, gzip, zstd"][Math.floor(random() * 5)];
  let range: [number, number] | undefined;
  if (size > 1 && random() < 0.3) {
    const a = Math.floor(random() * size);
    range = [a, Math.min(size - 1, a + Math.floor(random() * 2 * 1024 * 1024))];
  }
  return { path, method, encoding: encoding as string, range };
}

function sizeOf(path: string): number {
  const body = FILES[path.slice(1)] as Uint8Array | string;
  return typeof body === "string" ? Buffer.byteLength(body) : body.length;
}

function fileBytes(path: string): Buffer {
  const body = FILES[path.slice(1)] as Uint8Array | string;
  return Buffer.from(body);
}

function requestText(ask: Ask): string {
  const range = ask.range === undefined ? "" : `Range: bytes=${ask.range[0]}-${ask.range[1]}\r\n`;
  return `${ask.method} ${ask.path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ${ask.encoding}\r\n${range}\r\n`;
}

function decode(body: Uint8Array, coding: string | undefined): Buffer {
  if (coding === undefined) return Buffer.from(body);
  if (coding === "gzip") return gunzipSync(body);
  if (coding === "br") return brotliDecompressSync(body);
  if (coding === "zstd") return zstdDecompressSync(body);
  throw new Error(`unexpected coding ${coding}`);
}

/** What is wrong with `res` as the answer to `ask`, or undefined. */
function problem(
  ask: Ask,
  res: RawResponse | undefined,
  full: Map<string, Buffer>,
): string | undefined {
  if (res === undefined) return "no response";
  const coding = res.headers.get("content-encoding");
  const expected = fileBytes(ask.path);
  if (ask.method === "HEAD") {
    return res.body.length === 0 && res.status < 300 ? undefined : `HEAD ${res.status}`;
  }
  const whole = full.get(`${ask.path} ${coding ?? "identity"}`);
  if (ask.range !== undefined && res.status === 416) {
    // The range starts past the end of the coding chosen (ranges apply to it, not to the file),
    // which `Content-Range: bytes */<length>` names (RFC 9110 §14.4).
    const length = Number(/^bytes \*\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1]);
    const isCoding = [...full].some(
      ([key, b]) => key.startsWith(`${ask.path} `) && b.length === length,
    );
    return isCoding && ask.range[0] >= length ? undefined : "416 for a valid range";
  }
  if (ask.range !== undefined && res.status === 206) {
    // A range of the representation named by Content-Encoding (RFC 9110 §14.1.2).
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
    if (match === null) return `bad content-range ${res.headers.get("content-range")}`;
    const [a, b] = [Number(match[1]), Number(match[2])];
    if (whole === undefined) return `no whole ${coding} to compare with`;
    return Buffer.from(res.body).equals(whole.subarray(a, b + 1))
      ? undefined
      : "range bytes differ";
  }
  if (res.status !== 200) return `status ${res.status}`;
  return decode(res.body, coding).equals(expected) ? undefined : `body differs (${coding})`;
}

/**
 * Sends every request in one write (the last with `Connection: close`), reads with pauses, and
 * returns the responses once the server closes.
 */
function exchange(
  port: number,
  asks: readonly Ask[],
  random: () => number,
): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("timed out"));
    }, 30_000);
    const text = asks.map(requestText).join("");
    socket.on("connect", () =>
      socket.write(text.replace(/\r\n\r\n$/, "\r\nConnection: close\r\n\r\n")),
    );
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // A reader that stalls now and then: the server's buffer fills mid-sendfile.
      if (random() < 0.05) {
        socket.pause();
        setTimeout(() => socket.resume(), Math.floor(random() * 30));
      }
    });
    socket.on("end", () => {
      clearTimeout(timer);
      const bodiless = (i: number) => asks[i]?.method === "HEAD";
      resolve(parseResponses(Buffer.concat(chunks), { bodiless }));
    });
    socket.on("error", reject);
  });
}

/** Every variant's whole bytes by `path coding`, for comparing ranges. */
function wholeVariants(snapshot: Snapshot): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const asset of snapshot.assets.values()) {
    for (const variant of asset.variants) {
      out.set(`${asset.path} ${variant.encoding}`, Buffer.from(variant.bytes));
    }
  }
  return out;
}

describe.if(sendfileAvailable())("bodies by sendfile", () => {
  let site: ReturnType<typeof createFixtureSite>;
  let mapped: ReturnType<typeof mappedSnapshot>;
  let server: RunningServer;
  let full: Map<string, Buffer>;

  beforeAll(async () => {
    site = createFixtureSite(FILES);
    const built = await buildSnapshot(site.root, {
      maxAge: 3600,
      cacheControl: undefined,
      extraHeaders: {},
      onWarning: () => {},
    });
    mapped = mappedSnapshot(built);
    full = wholeVariants(mapped.snapshot);
    // The default threshold, no upper limit: small bodies keep the single write, large ones
    // (megabytes too) go by sendfile.
    server = startServer(mapped.snapshot, {
      port: 0,
      host: "127.0.0.1",
      engine: "http1",
      sendfile: "on",
      sendfileMax: Number.POSITIVE_INFINITY,
      handler: DEFAULT_HANDLER_OPTIONS,
    });
  });
  afterAll(async () => {
    await server?.stop(1000);
    mapped?.cleanup();
    site?.cleanup();
  });

  test("random pipelined requests, small and large bodies, stalled readers: every byte in order", async () => {
    console.log(`sendfile fuzz seed ${SEED}; rerun with MEMSERVE_FUZZ_SEED=${SEED}`);
    const random = rng(SEED);
    const failures: string[] = [];
    const before = sendfileTotals.bytes;
    const clients = Array.from({ length: 6 }, async (_, c) => {
      const asks = Array.from({ length: 12 }, () => randomAsk(random));
      const got = await exchange(server.port, asks, rng(SEED + c));
      asks.forEach((ask, i) => {
        const issue = problem(ask, got[i], full);
        if (issue !== undefined) failures.push(`client ${c} #${i} ${requestText(ask)}: ${issue}`);
      });
    });
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(sendfileTotals.bytes).toBeGreaterThan(before);
  }, 60_000);

  test("a swap, and the old image's deletion, under a send in progress: the send completes intact", async () => {
    const client = connect({ host: "127.0.0.1", port: server.port });
    const chunks: Buffer[] = [];
    client.on("data", (chunk: Buffer) => chunks.push(chunk));
    client.pause();
    client.write("GET /big.mp4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await Bun.sleep(100);
    // A new image replaces the one being sent from, and its directory is deleted.
    const next = mappedSnapshot(mapped.snapshot);
    server.replaceSnapshot(next.snapshot);
    mapped.cleanup();
    Bun.gc(true);
    const done = new Promise<void>((resolve) => client.on("end", () => resolve()));
    client.resume();
    await done;
    const [res] = parseResponses(Buffer.concat(chunks));
    expect(res?.status).toBe(200);
    expect(Buffer.from(res?.body ?? []).equals(fileBytes("/big.mp4"))).toBe(true);
    mapped = next;
  }, 30_000);

  test("a segment file gone before its first send: written from the mapping instead", async () => {
    // A fresh image whose files are deleted before anything is sent from them.
    const fresh = mappedSnapshot(mapped.snapshot);
    fresh.cleanup();
    server.replaceSnapshot(fresh.snapshot);
    const got = await exchange(
      server.port,
      [{ path: "/photo.png", method: "GET", encoding: "identity", range: undefined }],
      rng(1),
    );
    expect(Buffer.from(got[0]?.body ?? []).equals(fileBytes("/photo.png"))).toBe(true);
    server.replaceSnapshot(mapped.snapshot);
  });

  test("the default bands: 64 KiB by sendfile, 300 KB written, 7 MiB by sendfile again", async () => {
    const defaults = startServer(mapped.snapshot, {
      port: 0,
      host: "127.0.0.1",
      engine: "http1",
      handler: DEFAULT_HANDLER_OPTIONS,
    });
    try {
      const sentBy = async (path: string) => {
        const before = sendfileTotals.bytes;
        const ask: Ask = { path, method: "GET", encoding: "identity", range: undefined };
        const [res] = await exchange(defaults.port, [ask], rng(2));
        expect(Buffer.from(res?.body ?? []).equals(fileBytes(path))).toBe(true);
        return sendfileTotals.bytes - before;
      };
      expect(await sentBy("/at.bin")).toBe(64 * 1024);
      expect(await sentBy("/photo.png")).toBe(0);
      // Whenever the socket buffer is full, write takes what room opens: much of it, maybe not all.
      expect(await sentBy("/big.mp4")).toBeGreaterThan(0);
    } finally {
      await defaults.stop(1000);
    }
  });
});
