import { afterAll, beforeAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { addDeltas } from "../../src/dictionary/deltas.ts";
import { DEFAULT_HANDLER_OPTIONS, type HandlerOptions } from "../../src/http/handler.ts";
import { readImage } from "../../src/image/read-image.ts";
import { writeImage } from "../../src/image/write-image.ts";
import {
  type RunningServer,
  type ServerOptions,
  startServer,
} from "../../src/server/start-server.ts";
import { type BuildOptions, buildSnapshot } from "../../src/snapshot/build.ts";
import type { Snapshot } from "../../src/snapshot/types.ts";
import { testCertificate, tlsUntilStopped } from "./tls.ts";

/** Repetitive text compresses well, so every codec's variant is kept. */
export const INDEX_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Home</title></head><body>${"<p>Hello, memserve. </p>\n".repeat(200)}</body></html>`;
export const APP_JS = `export const answer = 42;\n${"console.log('memserve is serving from memory');\n".repeat(400)}`;
export const CSS = `body { color: #333; }\n${".card { margin: 0 auto; padding: 1rem; }\n".repeat(300)}`;

/** Deterministic pseudo-random bytes: incompressible like a real PNG. */
export function noise(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** A site with every case the semantics tests need; returns its root and a cleanup. */
export function createFixtureSite(extra: Record<string, string | Uint8Array> = {}): {
  root: string;
  outside: string;
  cleanup: () => void;
} {
  const base = mkdtempSync(join(tmpdir(), "memserve-fixture-"));
  const root = join(base, "site");
  const outside = join(base, "outside");
  const files: Record<string, string | Uint8Array> = {
    "index.html": INDEX_HTML,
    "assets/app.3f9a1c2b.js": APP_JS,
    "css/site.css": CSS,
    "img/photo.png": noise(300 * 1024),
    "empty.txt": "",
    "docs/index.html": "<!doctype html><title>Docs</title><p>docs</p>",
    "odd name #1 ü%.txt": "odd but fine\n",
    "404.html": `<!doctype html><title>Not found</title>${"<p>Nothing here.</p>".repeat(50)}`,
    ".env": "SECRET=never-served\n",
    ".git/config": "[core]\n",
    ".well-known/security.txt": "Contact: mailto:security@example.com\n",
    ...extra,
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, "secret.txt"), "outside-the-root\n");
  symlinkSync(join(outside, "secret.txt"), join(root, "leak.txt"));
  symlinkSync(join(root, "css", "site.css"), join(root, "inside-link.css"));
  return { root, outside, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface TestServer {
  readonly server: RunningServer;
  readonly snapshot: Snapshot;
  readonly url: string;
  readonly port: number;
}

/**
 * Every transport runs the same suites: memserve's HTTP/1.1 engine, the same engine serving a
 * mapped image with every body sent by sendfile (`sendfile`), and the fetch adapter.
 */
export const ENGINES = ["http1", "sendfile", "fetch", "tls"] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * `snapshot` written as an image to a fresh directory (tmpfs where there is one) and mapped back,
 * as a serving process has it; `cleanup` deletes the directory.
 */
export function mappedSnapshot(snapshot: Snapshot): { snapshot: Snapshot; cleanup: () => void } {
  const base = process.platform === "linux" ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "memserve-test-image-"));
  const { indexPath } = writeImage(snapshot, dir, "gen-1");
  return { snapshot: readImage(indexPath), cleanup: () => rmSync(dir, { recursive: true }) };
}

/**
 * What `engine` sets in ServerOptions (`sendfile`: the http1 engine, every body by sendfile; `tls`:
 * the http1 engine over TLS with a self-signed certificate; wrap its server in `tlsUntilStopped`).
 */
export function engineOptions(
  engine: Engine,
): Pick<ServerOptions, "engine" | "sendfile" | "sendfileMin" | "sendfileMax" | "tls"> {
  if (engine === "sendfile")
    return {
      engine: "http1",
      sendfile: "on",
      sendfileMin: 1,
      sendfileMax: Number.POSITIVE_INFINITY,
    };
  if (engine === "tls") {
    const { cert, key } = testCertificate();
    return { engine: "http1", sendfile: "off", tls: { cert, key } };
  }
  return { engine, sendfile: "off" };
}

/** The snapshot of `root` with the CLI's defaults and warnings kept quiet. */
export function buildTestSnapshot(
  root: string,
  build: Partial<BuildOptions> = {},
): Promise<Snapshot> {
  return buildSnapshot(root, {
    maxAge: 3600,
    cacheControl: undefined,
    extraHeaders: {},
    onWarning: () => {},
    ...build,
  });
}

/**
 * Builds the snapshot and serves it on a free loopback port (engine `sendfile`: from a mapped
 * image, `--sendfile on` with every body long enough).
 */
export async function startTestServer(
  root: string,
  serve: Partial<HandlerOptions> & { readonly engine?: Engine } = {},
  build: Partial<BuildOptions> = {},
): Promise<TestServer> {
  const { engine = "http1", ...handler } = serve;
  const built = await buildTestSnapshot(root, build);
  // The builder's delta pass, with no history: the site's own versions are the dictionaries.
  const versions = build.dictionaryVersions ?? 0;
  const snapshot = versions > 0 ? await addDeltas(built, { versions }) : built;
  const mapped = engine === "sendfile" ? mappedSnapshot(snapshot) : undefined;
  const served = mapped?.snapshot ?? snapshot;
  const started = startServer(served, {
    port: 0,
    host: "127.0.0.1",
    ...engineOptions(engine),
    handler: { ...DEFAULT_HANDLER_OPTIONS, ...handler },
  });
  const server = engine === "tls" ? tlsUntilStopped(started) : started;
  const stop = async (timeoutMs: number) => {
    await server.stop(timeoutMs);
    mapped?.cleanup();
  };
  return { server: { ...server, stop }, snapshot: served, url: server.url, port: server.port };
}

/** A fixture site served for the tests of one `describe`; read its fields inside tests. */
export interface FixtureServer {
  readonly port: number;
  readonly url: string;
  readonly snapshot: Snapshot;
  readonly root: string;
}

/**
 * Registers `beforeAll`/`afterAll` that create the fixture site, serve it, and tear both down.
 * `const t = useFixtureServer({ engine })`, then `t.port` in tests.
 */
export function useFixtureServer(
  serve: Parameters<typeof startTestServer>[1] = {},
  build: Partial<BuildOptions> = {},
): FixtureServer {
  let site: ReturnType<typeof createFixtureSite> | undefined;
  let running: TestServer | undefined;
  beforeAll(async () => {
    site = createFixtureSite();
    running = await startTestServer(site.root, serve, build);
  });
  afterAll(async () => {
    await running?.server.stop(1000);
    site?.cleanup();
  });
  const current = (): TestServer => {
    if (running === undefined) throw new Error("the fixture server is not running yet");
    return running;
  };
  return {
    get port() {
      return current().port;
    },
    get url() {
      return current().url;
    },
    get snapshot() {
      return current().snapshot;
    },
    get root() {
      return site?.root ?? "";
    },
  };
}
