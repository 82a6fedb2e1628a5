import { parseArgs } from "node:util";
import { checkExtraHeader } from "../snapshot/headers.ts";
import { defaultCacheDir } from "../snapshot/store.ts";

/** Everything the command line can set, validated. */
export interface CliOptions {
  readonly root: string;
  readonly port: number;
  readonly host: string;
  readonly workers: number;
  readonly spa: boolean;
  readonly cors: boolean;
  readonly maxAge: number;
  readonly cacheControl: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxRanges: number;
  readonly shutdownTimeoutMs: number;
  readonly engine: "http1" | "fetch";
  readonly compression: "fast" | "max" | "both";
  /** Where maximum-quality encodings persist between runs; undefined with --no-cache-dir. */
  readonly cacheDir: string | undefined;
  /** Reload when files under the root change (SIGHUP reloads either way). */
  readonly watch: boolean;
  /** SO_REUSEPORT: another memserve may listen on the same port (zero-downtime restart). */
  readonly reusePort: boolean;
}

export type ParsedCommand =
  | { readonly kind: "serve" | "build" | "prune"; readonly options: CliOptions }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string };

export const USAGE = `Usage: memserve <dir> [options]
       memserve build <dir>   compress at maximum quality into the cache dir, then exit
       memserve prune <dir>   delete cache entries that no file of <dir> uses

Serve a directory from memory: every file is loaded and precompressed
(brotli, zstd, gzip) at startup, and every request is answered from RAM.

Options:
  -p, --port <n>             Port to listen on (default 8080; 0 picks a free one)
  -H, --host <addr>          Address to bind (default 127.0.0.1; 0.0.0.0 for all)
  -w, --workers <n>          Server processes (only 1 is supported in this version)
  -s, --spa                  Serve /index.html for unknown paths without an extension
      --cors                 Allow cross-origin requests (Access-Control-Allow-Origin: *)
      --header "Name: value" Add a header to every response (repeatable)
      --max-age <seconds>    max-age for files that are neither hashed nor HTML (default 3600)
      --cache-control <v>    Cache-Control for every file, replacing the defaults
      --max-ranges <n>       Most byte ranges answered in one request (default 16)
      --shutdown-timeout <s> Seconds to let responses finish on SIGTERM (default 10)
      --engine <name>        http1 (default): memserve's HTTP/1.1 engine; fetch: Bun.serve
      --compression <mode>   both (default): serve after fast compression, then upgrade to
                             maximum quality in the background; fast: fast only; max: wait
                             for maximum quality (brotli 11, zstd 19, gzip 9) before serving
      --cache-dir <dir>      Keep maximum-quality encodings here between runs, so a restart
                             with unchanged files is at maximum at once
                             (default $XDG_CACHE_HOME/memserve or ~/.cache/memserve)
      --no-cache-dir         Keep nothing between runs
      --watch                Reload when files change (after 200 ms without changes);
                             SIGHUP reloads with or without it
      --reuse-port           Let a new memserve bind the same port before this one stops
                             (zero-downtime restart; see README)
  -h, --help                 Show this help
  -v, --version              Show the version

Defaults for Cache-Control: names with a content hash (app.3f9a1c2b.js) are
"public, max-age=31536000, immutable", HTML is "no-cache", others "public, max-age=3600".
A 404.html at the root is used as the body of 404 responses.

Examples:
  memserve ./dist
  memserve ./public --port 3000 --host 0.0.0.0 --spa
  memserve . --header "X-Frame-Options: DENY" --cors`;

const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** `["site", "--port", "3000"]` -> `{ kind: "serve", options: { root: "site", port: 3000, … } }`. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  let values: ReturnType<typeof parseRaw>["values"];
  let positionals: string[];
  try {
    ({ values, positionals } = parseRaw(argv));
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  // `memserve build <dir>` and `memserve prune <dir>` are subcommands; `memserve build` alone
  // serves a directory named build (a common output folder), so only two positionals mean one.
  const [first, second] = positionals;
  const sub =
    positionals.length === 2 && (first === "build" || first === "prune") ? first : undefined;
  if (positionals.length !== 1 && sub === undefined) {
    return {
      kind: "error",
      message: positionals.length === 0 ? "missing <dir>" : "expected exactly one <dir>",
    };
  }
  try {
    const root = (sub === undefined ? first : second) as string;
    return { kind: sub ?? "serve", options: toOptions(root, values) };
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
}

function parseRaw(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: "string", short: "p", default: "8080" },
      host: { type: "string", short: "H", default: "127.0.0.1" },
      workers: { type: "string", short: "w", default: "1" },
      spa: { type: "boolean", short: "s", default: false },
      cors: { type: "boolean", default: false },
      header: { type: "string", multiple: true, default: [] },
      "max-age": { type: "string", default: "3600" },
      "cache-control": { type: "string" },
      "max-ranges": { type: "string", default: "16" },
      "shutdown-timeout": { type: "string", default: "10" },
      engine: { type: "string", default: "http1" },
      compression: { type: "string", default: "both" },
      "cache-dir": { type: "string" },
      "no-cache-dir": { type: "boolean", default: false },
      watch: { type: "boolean", default: false },
      "reuse-port": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
  });
}

function toOptions(root: string, values: ReturnType<typeof parseRaw>["values"]): CliOptions {
  const workers = parseInteger("--workers", values.workers, 1, 1024);
  if (workers !== 1) throw new Error("--workers: only 1 worker is supported in this version");
  const engine = values.engine;
  if (engine !== "http1" && engine !== "fetch") {
    throw new Error(`--engine: expected http1 or fetch, got "${engine}"`);
  }
  const compression = values.compression;
  if (compression !== "fast" && compression !== "max" && compression !== "both") {
    throw new Error(`--compression: expected fast, max or both, got "${compression}"`);
  }
  const cacheControl = values["cache-control"];
  if (cacheControl !== undefined) checkFieldValue("--cache-control", cacheControl);
  const headers: Record<string, string> = {};
  if (values.cors) {
    headers["access-control-allow-origin"] = "*";
    headers["access-control-expose-headers"] = "Content-Length, Content-Range, ETag, Accept-Ranges";
  }
  for (const line of values.header) {
    const [name, value] = parseHeaderOption(line);
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return {
    root,
    port: parseInteger("--port", values.port, 0, 65535),
    host: parseHost(values.host),
    workers,
    spa: values.spa,
    cors: values.cors,
    maxAge: parseInteger("--max-age", values["max-age"], 0, 2147483647),
    cacheControl,
    headers,
    maxRanges: parseInteger("--max-ranges", values["max-ranges"], 1, 1000),
    shutdownTimeoutMs:
      parseInteger("--shutdown-timeout", values["shutdown-timeout"], 0, 86400) * 1000,
    engine,
    compression,
    cacheDir: values["no-cache-dir"] ? undefined : (values["cache-dir"] ?? defaultCacheDir()),
    watch: values.watch,
    reusePort: values["reuse-port"],
  };
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new Error(`${flag}: expected a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new Error(`${flag}: ${text} is not in ${min}..${max}`);
  return value;
}

function parseHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "" || /[\s/?#@]/.test(bare)) throw new Error(`--host: not an address: "${host}"`);
  return bare;
}

/** `"X-Frame-Options: DENY"` -> `["x-frame-options", "DENY"]`; RFC 9110 §5.1 token name, §5.5 value. */
export function parseHeaderOption(line: string): [string, string] {
  const colon = line.indexOf(":");
  if (colon <= 0) throw new Error(`--header: expected "Name: value", got "${line}"`);
  const name = line.slice(0, colon).trim();
  const value = line.slice(colon + 1).trim();
  try {
    checkExtraHeader(name, value);
  } catch (error) {
    throw new Error(`--header: ${(error as Error).message}`);
  }
  return [name.toLowerCase(), value];
}

function checkFieldValue(flag: string, value: string): void {
  if (!FIELD_VALUE.test(value)) throw new Error(`${flag}: value contains control characters`);
}
