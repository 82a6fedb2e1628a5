import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { CORS_HEADERS } from "../http/decide.ts";
import { SENDFILE_LARGE, SENDFILE_MAX, SENDFILE_MIN } from "../server/start-server.ts";
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
  /** `/about` serves `about.html`; `/about.html` redirects to `/about`. */
  readonly cleanUrls: boolean;
  /** Redirect pages to the URL with (always) or without (never) a trailing slash. */
  readonly trailingSlash: "always" | "never" | undefined;
  readonly maxAge: number;
  readonly cacheControl: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxRanges: number;
  readonly shutdownTimeoutMs: number;
  readonly engine: "http1" | "fetch";
  /** Large bodies by sendfile(2): auto (where it can be had), on (or exit), off. */
  readonly sendfile: "auto" | "on" | "off";
  /** The shortest body sent by sendfile, in bytes. */
  readonly sendfileMin: number;
  /** Bodies this long or longer are written (Infinity: no limit)... */
  readonly sendfileMax: number;
  /** ...up to this length, from which they go by sendfile again (Infinity: never). */
  readonly sendfileLarge: number;
  readonly compression: "fast" | "max" | "both";
  /** Earlier versions of a versioned file it gets deltas against (RFC 9842); 0: off. */
  readonly dictionaryVersions: number;
  /** Where maximum-quality encodings persist between runs; undefined with --no-cache-dir. */
  readonly cacheDir: string | undefined;
  /** Reload when files under the root change (default; SIGHUP reloads either way). */
  readonly watch: boolean;
  /** SO_REUSEPORT: another memserve may listen on the same port (zero-downtime restart). */
  readonly reusePort: boolean;
  /** Open connections at most (0: no limit). */
  readonly maxConnections: number;
  /** Port of the loopback admin server (/healthz, /readyz, /metrics); undefined: none. */
  readonly adminPort: number | undefined;
  /** The address the admin port binds (default 127.0.0.1; 0.0.0.0 for probes from outside). */
  readonly adminHost: string;
  /** PEM files for HTTPS: certificate (chain), key, and optionally CAs; undefined: plain HTTP. */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca?: string } | undefined;
  /** A plain-HTTP port answering every request with 308 to the https URL. */
  readonly redirectHttp: number | undefined;
  /** HTTP/2 over TLS (ALPN h2, then http/1.1) with `--engine fetch`: Bun.serve's, experimental. */
  readonly http2: boolean;
  /** Where access log lines go: a file path, "-" for stdout; undefined: no access log. */
  readonly accessLog: string | undefined;
  readonly accessLogFormat: "combined" | "json";
}

export type ParsedCommand =
  | { readonly kind: "serve" | "build" | "prune"; readonly options: CliOptions }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string };

const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** `["site", "--port", "3000"]` -> `{ kind: "serve", options: { root: "site", port: 3000, … } }`. */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedCommand {
  let values: ReturnType<typeof parseRaw>["values"];
  let positionals: string[];
  try {
    const fromEnv = environmentArgs(env);
    // Checked alone first, so a bad value is blamed on its variable, not on a flag never typed.
    const envError = fromEnv.length > 0 ? checkEnvironment(fromEnv) : undefined;
    if (envError !== undefined) return { kind: "error", message: envError };
    ({ values, positionals } = parseRaw([...fromEnv, ...argv]));
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  const dir = env.MEMSERVE_DIR;
  if (positionals.length === 0 && dir !== undefined && dir !== "") positionals = [dir];
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  // `memserve build <dir>` and `memserve prune <dir>` are subcommands; `memserve build` alone
  // serves a directory named build (a common output folder), so only two positionals mean one.
  const [first, second] = positionals;
  const sub =
    positionals.length === 2 && (first === "build" || first === "prune") ? first : undefined;
  // `memserve prune` alone: the subcommand without its directory, unless a directory has that name.
  if (positionals.length === 1 && (first === "build" || first === "prune") && !existsSync(first)) {
    return { kind: "error", message: `missing <dir>: memserve ${first} <dir>` };
  }
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

const OPTIONS = {
  port: { type: "string", short: "p", default: "8080" },
  host: { type: "string", short: "H", default: "127.0.0.1" },
  workers: { type: "string", short: "w", default: String(availableParallelism()) },
  spa: { type: "boolean", short: "s", default: false },
  cors: { type: "boolean", default: false },
  "clean-urls": { type: "boolean", default: false },
  "trailing-slash": { type: "string" },
  header: { type: "string", multiple: true, default: [] as string[] },
  "max-age": { type: "string", default: "3600" },
  "cache-control": { type: "string" },
  "max-ranges": { type: "string", default: "16" },
  "shutdown-timeout": { type: "string", default: "10" },
  engine: { type: "string", default: "http1" },
  sendfile: { type: "string", default: "auto" },
  "sendfile-min": { type: "string", default: String(SENDFILE_MIN) },
  "sendfile-max": { type: "string", default: String(SENDFILE_MAX) },
  "sendfile-large": { type: "string", default: String(SENDFILE_LARGE) },
  compression: { type: "string", default: "both" },
  "dictionary-versions": { type: "string", default: "3" },
  "cache-dir": { type: "string" },
  "no-cache-dir": { type: "boolean", default: false },
  // On by default: `watch` is kept so the flag users already pass still parses.
  watch: { type: "boolean", default: false },
  "no-watch": { type: "boolean", default: false },
  "reuse-port": { type: "boolean", default: false },
  "max-connections": { type: "string", default: "10000" },
  "admin-port": { type: "string" },
  "admin-host": { type: "string", default: "127.0.0.1" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  "redirect-http": { type: "string" },
  http2: { type: "boolean", default: false },
  "access-log": { type: "string" },
  "access-log-format": { type: "string", default: "combined" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
} satisfies ParseArgsOptionsConfig;

function parseRaw(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
}

/** `port` -> `MEMSERVE_PORT`, `max-age` -> `MEMSERVE_MAX_AGE`. */
export const envName = (option: string) => `MEMSERVE_${option.toUpperCase().replaceAll("-", "_")}`;

/**
 * The options set in the environment, as command-line arguments to put before the real ones (which
 * then win). Booleans take 1/true/yes/on or 0/false/no/off; MEMSERVE_HEADER takes one header per
 * line; MEMSERVE_DIR is the directory when none is given; PORT is the port when MEMSERVE_PORT
 * is not set; MEMSERVE_WATCH=0 turns watching off.
 *
 * @example environmentArgs({ MEMSERVE_PORT: "3000", MEMSERVE_SPA: "1" }) // ["--port", "3000", "--spa"]
 * @throws Error naming the variable when a boolean is neither.
 */
export function environmentArgs(env: Readonly<Record<string, string | undefined>>): string[] {
  const args: string[] = [];
  for (const [option, spec] of Object.entries(OPTIONS)) {
    if (option === "help" || option === "version") continue;
    const value = env[envName(option)];
    if (value === undefined) continue;
    if (spec.type === "boolean") {
      if (/^(1|true|yes|on)$/i.test(value)) args.push(`--${option}`);
      else if (option === "watch" && /^(0|false|no|off)$/i.test(value)) args.push("--no-watch");
      else if (!/^(0|false|no|off|)$/i.test(value)) {
        throw new Error(
          `${envName(option)}: expected 1/true/yes/on or 0/false/no/off, got "${value}"`,
        );
      }
    } else if (option === "header") {
      for (const line of value.split("\n")) if (line.trim() !== "") args.push(`--${option}`, line);
    } else {
      args.push(`--${option}`, value);
    }
  }
  // Cloud platforms (Heroku, Cloud Run, Render...) say where to listen in PORT.
  const port = env.PORT;
  if (port !== undefined && env.MEMSERVE_PORT === undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      throw new Error(`PORT (environment): expected a port number, got "${port}"`);
    }
    args.push("--port", port);
  }
  return args;
}

/** The message for environment-set options that do not parse or validate, naming the variable. */
function checkEnvironment(fromEnv: readonly string[]): string | undefined {
  try {
    toOptions(".", parseRaw(fromEnv).values);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    return message.replace(
      /^--([a-z-]+)/,
      (_, option: string) => `${envName(option)} (environment)`,
    );
  }
}

function toOptions(root: string, values: ReturnType<typeof parseRaw>["values"]): CliOptions {
  const workers = parseInteger("--workers", values.workers, 1, 256);
  const engine = values.engine;
  if (engine !== "http1" && engine !== "fetch") {
    throw new Error(`--engine: expected http1 or fetch, got "${engine}"`);
  }
  const sendfile = values.sendfile;
  if (sendfile !== "auto" && sendfile !== "on" && sendfile !== "off") {
    throw new Error(`--sendfile: expected auto, on or off, got "${sendfile}"`);
  }
  if (sendfile === "on" && engine === "fetch") {
    throw new Error("--sendfile on: the fetch engine writes every body (use --engine http1)");
  }
  const compression = values.compression;
  if (compression !== "fast" && compression !== "max" && compression !== "both") {
    throw new Error(`--compression: expected fast, max or both, got "${compression}"`);
  }
  const trailingSlash = values["trailing-slash"];
  if (trailingSlash !== undefined && trailingSlash !== "always" && trailingSlash !== "never") {
    throw new Error(`--trailing-slash: expected always or never, got "${trailingSlash}"`);
  }
  const accessLogFormat = values["access-log-format"];
  if (accessLogFormat !== "combined" && accessLogFormat !== "json") {
    throw new Error(`--access-log-format: expected combined or json, got "${accessLogFormat}"`);
  }
  const adminPort = values["admin-port"];
  const [cert, key, ca] = [values["tls-cert"], values["tls-key"], values["tls-ca"]];
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error("--tls-cert and --tls-key go together");
  }
  if (ca !== undefined && cert === undefined)
    throw new Error("--tls-ca needs --tls-cert and --tls-key");
  if (values.http2 && (engine !== "fetch" || cert === undefined)) {
    throw new Error(
      "--http2 needs --engine fetch and --tls-cert/--tls-key (Bun serves HTTP/2 over TLS only)",
    );
  }
  const redirectHttp = values["redirect-http"];
  if (redirectHttp !== undefined && cert === undefined) {
    throw new Error("--redirect-http needs --tls-cert and --tls-key (it redirects to https)");
  }
  const cacheControl = values["cache-control"];
  if (cacheControl !== undefined) checkFieldValue("--cache-control", cacheControl);
  const headers: Record<string, string> = {};
  if (values.cors) Object.assign(headers, CORS_HEADERS);
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
    cleanUrls: values["clean-urls"],
    trailingSlash,
    maxAge: parseInteger("--max-age", values["max-age"], 0, 2147483647),
    cacheControl,
    headers,
    maxRanges: parseInteger("--max-ranges", values["max-ranges"], 1, 1000),
    shutdownTimeoutMs:
      parseInteger("--shutdown-timeout", values["shutdown-timeout"], 0, 86400) * 1000,
    engine,
    sendfile,
    sendfileMin: parseInteger("--sendfile-min", values["sendfile-min"], 1, 2147483647),
    sendfileMax:
      parseInteger("--sendfile-max", values["sendfile-max"], 0, 2147483647) ||
      Number.POSITIVE_INFINITY,
    sendfileLarge:
      parseInteger("--sendfile-large", values["sendfile-large"], 0, Number.MAX_SAFE_INTEGER) ||
      Number.POSITIVE_INFINITY,
    compression,
    dictionaryVersions: parseInteger("--dictionary-versions", values["dictionary-versions"], 0, 16),
    cacheDir: values["no-cache-dir"] ? undefined : (values["cache-dir"] ?? defaultCacheDir()),
    // --watch wins, so a command line's --watch overrides MEMSERVE_WATCH=0.
    watch: values.watch || !values["no-watch"],
    reusePort: values["reuse-port"],
    maxConnections: parseInteger("--max-connections", values["max-connections"], 0, 10_000_000),
    adminPort:
      adminPort === undefined ? undefined : parseInteger("--admin-port", adminPort, 0, 65535),
    adminHost: parseHost(values["admin-host"], "--admin-host"),
    tls:
      cert === undefined || key === undefined
        ? undefined
        : { cert, key, ...(ca === undefined ? {} : { ca }) },
    http2: values.http2,
    redirectHttp:
      redirectHttp === undefined
        ? undefined
        : parseInteger("--redirect-http", redirectHttp, 1, 65535),
    accessLog: values["access-log"],
    accessLogFormat,
  };
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new Error(`${flag}: expected a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new Error(`${flag}: ${text} is not in ${min}..${max}`);
  return value;
}

function parseHost(host: string, flag = "--host"): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "" || /[\s/?#@]/.test(bare)) throw new Error(`${flag}: not an address: "${host}"`);
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
