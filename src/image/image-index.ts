import type { ContentCoding, SnapshotStats } from "../snapshot/types.ts";

/**
 * An image's index: a small JSON file beside the segments, everything a process needs to serve the
 * snapshot except the response bytes. Repeated strings (content types, Cache-Control values,
 * segment names) are tables referenced by number, so 20,000 files cost a few hundred bytes each.
 * Headers are not stored: they are recomputed from these facts, exactly as the build made them.
 */
export const INDEX_VERSION = 4;

/**
 * `[encoding, segment, offset, length, headLength, etag]`, and for a delta (RFC 9842) the base64
 * SHA-256 of its dictionary.
 */
export type VariantRow =
  | readonly [ContentCoding, number, number, number, number, string]
  | readonly [ContentCoding, number, number, number, number, string, string];

/**
 * `[path, contentType, lastModified (ms), cacheControl, atMaximum (0/1), source, variants,
 * extraHeaders]`: the numbers are positions in the tables (`extraHeaders` in `headerSets`).
 */
export type AssetRow = readonly [
  string,
  number,
  number,
  number,
  0 | 1,
  string,
  VariantRow[],
  number,
];

export interface ImageIndex {
  readonly version: typeof INDEX_VERSION;
  readonly root: string;
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly stats: SnapshotStats;
  readonly segments: readonly string[];
  readonly contentTypes: readonly string[];
  readonly cacheControls: readonly string[];
  /** The assets' extra header sets (`Asset.extraHeaders`): the first is the snapshot's own. */
  readonly headerSets: readonly Readonly<Record<string, string>>[];
  /** The site's `_redirects` as read (parsed again by each process that maps the image). */
  readonly redirects: { readonly file: string; readonly text: string } | undefined;
  /** Sum of every variant's body bytes and of its head bytes (for accounting). */
  readonly bodies: number;
  readonly heads: number;
  readonly assets: readonly AssetRow[];
}

/** Parses an index file's text; throws on anything that is not an index of this version. */
export function parseIndex(text: string, path: string): ImageIndex {
  let index: ImageIndex;
  try {
    index = JSON.parse(text) as ImageIndex;
  } catch {
    throw new Error(`not a memserve image index: ${path}`);
  }
  if (index?.version !== INDEX_VERSION || !Array.isArray(index.assets)) {
    throw new Error(`not a memserve image index (version ${INDEX_VERSION}): ${path}`);
  }
  return index;
}

/** Interns strings into a table, returning each one's position. */
export function createTable(): { readonly values: string[]; indexOf(value: string): number } {
  const values: string[] = [];
  const positions = new Map<string, number>();
  return {
    values,
    indexOf(value) {
      let position = positions.get(value);
      if (position === undefined) {
        position = values.length;
        values.push(value);
        positions.set(value, position);
      }
      return position;
    },
  };
}
