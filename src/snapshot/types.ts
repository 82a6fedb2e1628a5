import type { RedirectTable } from "../rules/redirects.ts";

/** Content codings memserve stores, in the server's tie-break preference (RFC 9110 §8.4.1). */
export type Encoding = "br" | "zstd" | "gzip" | "identity";

export const ENCODINGS: readonly Encoding[] = ["br", "zstd", "gzip", "identity"];

/** The dictionary-compressed codings of RFC 9842: brotli and zstd against the client's dictionary. */
export type DeltaCoding = "dcb" | "dcz";

export type ContentCoding = Encoding | DeltaCoding;

/**
 * One stored representation of an asset (RFC 9110 §3.2). Everything a response needs is computed at
 * load time so a request is a lookup: the body Blob is shared by every response that sends it.
 */
export interface Variant<C extends ContentCoding = Encoding> {
  readonly encoding: C;
  /** The stored bytes: a view of the tail of `response`. */
  readonly bytes: Uint8Array;
  /**
   * The whole HTTP/1.1 200 response, head then body, in one buffer, so the engine answers with one
   * write from shared memory. The head's Date is refreshed in place by the engine (same length).
   */
  readonly response: Uint8Array;
  /**
   * The same bytes as a Blob for the fetch adapter, created on first use and then shared by every
   * response (`new Response(uint8array)` would copy the bytes per request).
   */
  readonly body: Blob;
  readonly size: number;
  /** Strong entity tag including quotes, different per encoding: `"3f9a1c2b0d4e5f60-br"` (and per delta). */
  readonly etag: string;
  /**
   * Complete header set for a 200: Content-Type, Content-Length, Content-Encoding (not for identity),
   * ETag, Last-Modified, Cache-Control, Accept-Ranges, Vary (only when the asset has more than one
   * variant: `accept-encoding`, and `available-dictionary` when it has deltas) and the extra headers.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Header set for a 304 (RFC 9110 §15.4.5): ETag, Last-Modified, Cache-Control, Vary, extras. */
  readonly notModifiedHeaders: Readonly<Record<string, string>>;
}

export interface Asset {
  /** Decoded URL path from the root, always starting with "/": `/css/app.css`, `/docs/index.html`. */
  readonly path: string;
  /** Full media type, `text/css; charset=utf-8`. */
  readonly contentType: string;
  /** Milliseconds since the epoch, truncated to whole seconds (HTTP-date precision). */
  readonly lastModified: number;
  /** Ascending by size, so the first acceptable one is the server's preferred; identity included. */
  readonly variants: readonly Variant[];
  readonly identity: Variant;
  /**
   * Deltas (RFC 9842) by the base64 SHA-256 of the dictionary they were made against (an earlier
   * version of the file), each list ascending by size; empty for most assets.
   */
  readonly deltas: ReadonlyMap<string, readonly Variant<DeltaCoding>[]>;
  /** Every coding at maximum quality (or from a valid sidecar): the upgrade pass skips the asset. */
  readonly atMaximum: boolean;
  /**
   * The version of the files it was built from (`versionOf` the file as read, and its sidecars'):
   * a reload reuses the asset as long as a new scan finds the same.
   */
  readonly source: string;
  /**
   * The headers added to its responses after the computed ones: the configured extra headers
   * merged with what `_headers` sets for its path (the snapshot's own object when no rule does).
   */
  readonly extraHeaders: Readonly<Record<string, string>>;
}

export interface SnapshotStats {
  readonly files: number;
  readonly skipped: number;
  readonly rawBytes: number;
  /** Bytes held per encoding (identity = raw bytes kept; others only for kept variants). */
  readonly bytesByEncoding: Readonly<Record<Encoding, number>>;
  /** Raw bytes of the files that have a variant in each coding (for the saving per coding). */
  readonly rawBytesCoded: Readonly<Record<"br" | "zstd" | "gzip", number>>;
  readonly buildMs: number;
  /** Bytes of every delta (`Asset.deltas`), and the number of assets that have any. */
  readonly deltaBytes: number;
  readonly filesWithDeltas: number;
  /** Assets with a coding below maximum quality; 0 means the snapshot is as good as it gets. */
  readonly belowMaximum: number;
}

/** Immutable: built once, then only read. A reload builds a new one. */
export interface Snapshot {
  readonly root: string;
  readonly assets: ReadonlyMap<string, Asset>;
  /** `/404.html` at the root, used as the body of 404 responses. */
  readonly notFoundPage: Asset | undefined;
  /** Headers added to every response (`--header`, `--cors`), including error responses. */
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly stats: SnapshotStats;
  /** The site's `_redirects`, compiled; undefined when it has none. */
  readonly redirects?: RedirectTable | undefined;
}
