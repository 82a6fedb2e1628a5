// memserve inside another server: `createSite(dir, options)` loads a directory as the CLI does and
// answers Web Requests from it, for Bun.serve, Hono, Elysia or anything fetch-shaped.

import { addDeltas } from "./dictionary/deltas.ts";
import { historyIn } from "./dictionary/history.ts";
import { CORS_HEADERS } from "./http/decide.ts";
import { DEFAULT_HANDLER_OPTIONS, type HandlerOptions, handleRequest } from "./http/handler.ts";
import { buildSnapshot } from "./snapshot/build.ts";
import { type CompressionStore, openStore } from "./snapshot/store.ts";
import type { Snapshot } from "./snapshot/types.ts";
import { upgradeSnapshot } from "./snapshot/upgrade.ts";

/** The CLI's options that shape what is served (`memserve --help` names them the same way). */
export interface SiteOptions {
  readonly spa?: boolean;
  readonly cleanUrls?: boolean;
  readonly trailingSlash?: "always" | "never";
  readonly cors?: boolean;
  readonly maxRanges?: number;
  /** Added to every response (`--header`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** `max-age` for files that are neither hashed nor HTML (default 3600). */
  readonly maxAge?: number;
  /** One Cache-Control for every file, replacing the defaults. */
  readonly cacheControl?: string;
  /**
   * `both` (default): answer after fast compression and reach maximum in the background; `fast`;
   * `max`: `createSite` resolves once everything is at maximum quality.
   */
  readonly compression?: "both" | "fast" | "max";
  /** Where maximum-quality encodings and dictionary versions persist; none by default. */
  readonly cacheDir?: string;
  /** Earlier versions a versioned file gets deltas against (RFC 9842; default 3, 0: off). */
  readonly dictionaryVersions?: number;
  /** Skipped files and the like; default: printed to stderr. */
  readonly onWarning?: (message: string) => void;
}

export interface Site {
  /** Answers from the current snapshot; never throws for a request (a bad one gets its 4xx). */
  fetch(request: Request): Response;
  /** Reads the directory again, reusing unchanged files; resolves once the new snapshot serves. */
  reload(): Promise<void>;
  /** Stops background work; `fetch` keeps answering from the last snapshot. */
  close(): void;
  /** The snapshot being served (files, stats). */
  readonly snapshot: Snapshot;
}

/**
 * Loads `dir` into memory, precompressed, and returns its fetch handler. Compression runs in this
 * process (the CLI runs it in a builder process instead), so a large site costs the host app CPU
 * while it loads and, with `compression: "both"`, for the background pass to maximum quality.
 *
 * @example const site = await createSite("dist");
 *          Bun.serve({ fetch: site.fetch });
 * @throws Error when `dir` is not a readable directory or a rule file does not parse
 */
export async function createSite(dir: string, options: SiteOptions = {}): Promise<Site> {
  const warn = options.onWarning ?? ((message) => console.warn(`memserve: warning: ${message}`));
  const store: CompressionStore | undefined =
    options.cacheDir === undefined
      ? undefined
      : await openStore(options.cacheDir, { onWarning: warn });
  const versions = options.dictionaryVersions ?? 3;
  const history = historyIn(options.cacheDir, versions, warn);
  const compression = options.compression ?? "both";
  const handler: HandlerOptions = {
    ...DEFAULT_HANDLER_OPTIONS,
    spa: options.spa ?? false,
    cors: options.cors ?? false,
    cleanUrls: options.cleanUrls ?? false,
    trailingSlash: options.trailingSlash,
    maxRanges: options.maxRanges ?? DEFAULT_HANDLER_OPTIONS.maxRanges,
  };
  const extraHeaders = { ...(options.cors ? CORS_HEADERS : {}), ...options.headers };
  let closed = false;
  let generation = 0;

  const build = (previous: Snapshot | undefined) =>
    buildSnapshot(dir, {
      maxAge: options.maxAge ?? 3600,
      cacheControl: options.cacheControl,
      extraHeaders,
      dictionaryVersions: versions,
      compressionLevel: compression === "max" ? "max" : "fast",
      previous,
      store,
      onWarning: warn,
    });
  /** The pass to maximum quality and the deltas, published as they finish unless superseded. */
  const improve = async (snapshot: Snapshot, mine: number) => {
    const best =
      compression === "both"
        ? await upgradeSnapshot(snapshot, { store, concurrency: 2 })
        : snapshot;
    const previous = current;
    const final =
      compression === "fast" ? best : await addDeltas(best, { versions, history, store, previous });
    if (!closed && mine === generation) current = final;
  };

  let current = await build(undefined);
  const first = improve(current, generation);
  if (compression === "max") await first;
  else first.catch((error) => warn(`background compression failed: ${(error as Error).message}`));

  return {
    fetch: (request) => handleRequest(current, request, handler),
    async reload() {
      const mine = ++generation;
      const next = await build(current);
      if (closed || mine !== generation) return;
      current = next;
      void improve(next, mine).catch((error) =>
        warn(`background compression failed: ${(error as Error).message}`),
      );
    },
    close() {
      closed = true;
    },
    get snapshot() {
      return current;
    },
  };
}
