import { renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Snapshot, Variant } from "../snapshot/types.ts";
import { type AssetRow, createTable, type ImageIndex, INDEX_VERSION } from "./image-index.ts";
import { LARGE_RESPONSE, locationOf, PACK_LIMIT, segmentSize, writeSegment } from "./segments.ts";

/** What `writeImage` wrote: the index's path and what the image holds. */
export interface WrittenImage {
  readonly indexPath: string;
  /** Every segment the image references (kept ones included). */
  readonly segments: readonly string[];
  /** Response bytes written now, in new segments (0: every body was kept). */
  readonly bytesWritten: number;
  readonly bodies: number;
  readonly heads: number;
  readonly indexBytes: number;
}

export interface WriteImageOptions {
  /**
   * Rewrite the live responses of packs that are mostly dead (less than COMPACT_BELOW live), so a
   * long run of reloads does not keep freed small bodies alive. Off for upgrade batches, whose
   * packs of fast encodings die whole at the end of the pass.
   */
  readonly compact?: boolean;
}

/** A pack with less than this share of its bytes live is rewritten (`compact`). */
const COMPACT_BELOW = 0.85;

interface Ref {
  readonly segment: string;
  readonly offset: number;
}

/**
 * Writes `snapshot` into `dir` as the image `name` (`name.json` and segments). A response that is a
 * view of a segment of `dir` (it came from `readImage`) is referenced where it is: a new image
 * that keeps a body costs no body memory. New responses go into new segments: each large one
 * alone, small ones packed, identity apart from the codings (an upgrade replaces every fast coding
 * and keeps every identity, so the old packs of codings die whole).
 *
 * @example writeImage(snapshot, "/dev/shm/memserve-1", "gen-3").indexPath // ".../gen-3.json"
 */
export function writeImage(
  snapshot: Snapshot,
  dir: string,
  name: string,
  options: WriteImageOptions = {},
): WrittenImage {
  const absDir = resolve(dir);
  const segments = createTable();
  const refs = new Map<Variant, Ref>();
  const pending: Variant[] = [];
  for (const asset of snapshot.assets.values()) {
    for (const variant of asset.variants) {
      const location = locationOf(variant.response);
      if (location?.dir === absDir) {
        refs.set(variant, { segment: location.segment, offset: location.offset });
      } else {
        pending.push(variant);
      }
    }
  }
  if (options.compact) pending.push(...takeSparse(refs, absDir));
  const bytesWritten = writePending(pending, absDir, refs);

  const contentTypes = createTable();
  const cacheControls = createTable();
  let bodies = 0;
  let heads = 0;
  const assets: AssetRow[] = [];
  for (const asset of snapshot.assets.values()) {
    const cacheControl = asset.identity.headers["cache-control"] ?? "no-cache";
    assets.push([
      asset.path,
      contentTypes.indexOf(asset.contentType),
      asset.lastModified,
      cacheControls.indexOf(cacheControl),
      asset.atMaximum ? 1 : 0,
      asset.source,
      asset.variants.map((variant) => {
        const ref = refs.get(variant) as Ref;
        const headLength = variant.response.length - variant.size;
        bodies += variant.size;
        heads += headLength;
        return [
          variant.encoding,
          segments.indexOf(ref.segment),
          ref.offset,
          variant.response.length,
          headLength,
          variant.etag,
        ];
      }),
    ]);
  }
  const index: ImageIndex = {
    version: INDEX_VERSION,
    root: snapshot.root,
    extraHeaders: snapshot.extraHeaders,
    stats: snapshot.stats,
    segments: segments.values,
    contentTypes: contentTypes.values,
    cacheControls: cacheControls.values,
    bodies,
    heads,
    assets,
  };
  const text = JSON.stringify(index);
  const indexPath = join(absDir, `${name}.json`);
  const temporary = `${indexPath}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, indexPath);
  return {
    indexPath,
    segments: segments.values,
    bytesWritten,
    bodies,
    heads,
    indexBytes: Buffer.byteLength(text),
  };
}

/**
 * The referenced variants of packs whose live bytes are under COMPACT_BELOW of their size, removed
 * from `refs` so they are written again into new packs.
 */
function takeSparse(refs: Map<Variant, Ref>, dir: string): Variant[] {
  const live = new Map<string, number>();
  for (const [variant, ref] of refs) {
    live.set(ref.segment, (live.get(ref.segment) ?? 0) + variant.response.length);
  }
  const sparse = new Set<string>();
  for (const [segment, bytes] of live) {
    const isPack = segment.startsWith("p-");
    if (isPack && bytes < COMPACT_BELOW * segmentSize(dir, segment)) sparse.add(segment);
  }
  const taken: Variant[] = [];
  for (const [variant, ref] of refs) {
    if (!sparse.has(ref.segment)) continue;
    refs.delete(variant);
    taken.push(variant);
  }
  return taken;
}

/** Writes the new responses into segments and records where each went; returns the bytes written. */
function writePending(pending: readonly Variant[], dir: string, refs: Map<Variant, Ref>): number {
  let written = 0;
  const store = (kind: "b" | "p", group: readonly Variant[]) => {
    const segment = writeSegment(
      dir,
      kind,
      group.map((v) => v.response),
    );
    let offset = 0;
    for (const variant of group) {
      refs.set(variant, { segment: segment.name, offset });
      offset += variant.response.length;
    }
    if (segment.written) written += offset;
  };
  const packs = {
    identity: { variants: [] as Variant[], bytes: 0 },
    coded: { variants: [] as Variant[], bytes: 0 },
  };
  for (const variant of pending) {
    const length = variant.response.length;
    if (length >= LARGE_RESPONSE) {
      store("b", [variant]);
      continue;
    }
    const pack = packs[variant.encoding === "identity" ? "identity" : "coded"];
    if (pack.bytes + length > PACK_LIMIT) {
      store("p", pack.variants);
      pack.variants = [];
      pack.bytes = 0;
    }
    pack.variants.push(variant);
    pack.bytes += length;
  }
  for (const pack of [packs.identity, packs.coded]) {
    if (pack.variants.length > 0) store("p", pack.variants);
  }
  return written;
}
