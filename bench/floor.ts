// The "floor": the cheapest server Bun can be for this corpus. One fixed Response per path in
// `Bun.serve({ routes })` (Bun's native static path: it adds ETag, 304 and HEAD itself), brotli
// bytes for compressible files and identity otherwise, with no negotiation at all. It is not a
// correct static server (a client without brotli gets brotli); it shows how much of memserve's
// per-request cost is memserve's own rather than Bun's.
//
//   bun bench/floor.ts <dir> --port <p> --host 127.0.0.1   prints "floor: serving <dir> at http://…"
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import { contentTypeOf, isCompressible, isSidecarPath, isWorthKeeping } from "./content-types.ts";
import { listFiles } from "./sidecars.ts";

/**
 * The bytes and coding the floor serves for one file: its `.br` sidecar when present (the same
 * bytes nginx and memserve send), else brotli at a fast quality (a floor, not a build step), else
 * the file itself when brotli saves too little or the type is not compressible.
 */
function representation(root: string, path: string): { body: Uint8Array; coding?: "br" } {
  const raw = readFileSync(join(root, path));
  if (!isCompressible(path)) return { body: raw };
  const sidecar = join(root, `${path}.br`);
  if (existsSync(sidecar)) return { body: readFileSync(sidecar), coding: "br" };
  const br = zlib.brotliCompressSync(raw, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 },
  });
  return isWorthKeeping(raw.length, br.length) ? { body: br, coding: "br" } : { body: raw };
}

/** Route key for a relative path: Bun requires percent-encoded keys (non-ASCII ones throw). */
const routeKey = (path: string): string => `/${path.split("/").map(encodeURIComponent).join("/")}`;

/**
 * One prebuilt Response per file under `root`, keyed by URL path; `/` serves `index.html`. Bodies
 * are Blobs so every response shares one store instead of copying bytes.
 *
 * @example createFloorRoutes("site") // { "/css/main.css": Response(br), "/img/big.jpg": Response, … }
 */
export function createFloorRoutes(root: string): Record<string, Response> {
  const files = listFiles(root);
  const present = new Set(files);
  const routes: Record<string, Response> = {};
  for (const path of files) {
    if (isSidecarPath(path, (primary) => present.has(primary))) continue;
    const { body, coding } = representation(root, path);
    const headers: Record<string, string> = { "content-type": contentTypeOf(path) };
    if (coding !== undefined) headers["content-encoding"] = coding;
    const blob = new Blob([body]);
    routes[routeKey(path)] = new Response(blob, { headers });
    if (path === "index.html") routes["/"] = new Response(blob, { headers });
  }
  return routes;
}

export interface FloorOptions {
  readonly root: string;
  readonly port: number;
  readonly host: string;
}

/** Starts the floor server; `port: 0` picks a free port (see `server.port`). */
export function startFloor(options: FloorOptions): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    port: options.port,
    hostname: options.host,
    development: false,
    routes: createFloorRoutes(options.root),
    fetch: () => new Response("Not Found", { status: 404 }),
  });
}

function runCli(argv: readonly string[]): void {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
    },
  });
  const root = positionals[0];
  if (root === undefined) throw new Error("usage: bun bench/floor.ts <dir> --port <p> --host <h>");
  const server = startFloor({ root, port: Number(values.port), host: values.host });
  console.log(`floor: serving ${root} at http://${urlHost(values.host)}:${server.port}`);
  const stop = () => server.stop(true).then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** IPv6 literals go in brackets inside a URL. */
const urlHost = (host: string): string => (host.includes(":") ? `[${host}]` : host);

if (import.meta.main) runCli(process.argv.slice(2));
