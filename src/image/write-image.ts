import { renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { storedVariants } from "../snapshot/asset.ts";
import type { Asset, ContentCoding, Snapshot, Variant } from "../snapshot/types.ts";
import {
  type AssetRow,
  createTable,
  type ImageIndex,
  INDEX_VERSION,
  type VariantRow,
} from "./image-index.ts";
import { LARGE_RESPONSE, locationOf, PACK_LIMIT, segmentSize, writeSegment } from "./segments.ts";

type AnyVariant = Variant<ContentCoding>;

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
  return new ImageWriter(dir).finish(snapshot, name, options);
}

/**
 * `writeImage` in two steps, so a build can hand over each asset as it is made (`add`): hashing and
 * copying the responses into segments then overlaps the compression of the rest, instead of
 * following the whole build (127 ms for a 65 MiB site, on the path to a cold start's first answer).
 * `finish` writes what is left and the index.
 */
export class ImageWriter {
  readonly #dir: string;
  /** Where each response placed so far went (a response in an open pack has none yet). */
  readonly #refs = new Map<AnyVariant, Ref>();
  readonly #added = new Set<AnyVariant>();
  readonly #packs = { identity: new Pack(), coded: new Pack() };
  #bytesWritten = 0;

  constructor(dir: string) {
    this.#dir = resolve(dir);
  }

  /** References what `asset` has in a segment of the dir; writes the rest, or packs it. */
  add(asset: Asset): void {
    for (const { variant } of storedVariants(asset)) {
      if (this.#added.has(variant)) continue;
      this.#added.add(variant);
      const location = locationOf(variant.response);
      if (location?.dir === this.#dir) {
        this.#refs.set(variant, { segment: location.segment, offset: location.offset });
      } else {
        this.#place(variant);
      }
    }
  }

  /** Writes what of `snapshot` is not written yet, then its index as `name.json`. */
  finish(snapshot: Snapshot, name: string, options: WriteImageOptions = {}): WrittenImage {
    for (const asset of snapshot.assets.values()) this.add(asset);
    if (options.compact) {
      for (const variant of takeSparse(this.#liveRefs(snapshot), this.#dir)) this.#place(variant);
    }
    for (const pack of [this.#packs.identity, this.#packs.coded]) this.#store("p", pack.take());
    return this.#writeIndex(snapshot, name);
  }

  /**
   * Where the variants `snapshot` holds are (a pack is sparse by these alone); those still in an
   * open pack have no segment yet.
   */
  #liveRefs(snapshot: Snapshot): Map<AnyVariant, Ref> {
    const live = new Map<AnyVariant, Ref>();
    for (const asset of snapshot.assets.values()) {
      for (const { variant } of storedVariants(asset)) {
        const ref = this.#refs.get(variant);
        if (ref !== undefined) live.set(variant, ref);
      }
    }
    return live;
  }

  #place(variant: AnyVariant): void {
    if (variant.response.length >= LARGE_RESPONSE) {
      this.#store("b", [variant]);
      return;
    }
    const pack = this.#packs[variant.encoding === "identity" ? "identity" : "coded"];
    if (pack.bytes + variant.response.length > PACK_LIMIT) this.#store("p", pack.take());
    pack.push(variant);
  }

  #store(kind: "b" | "p", group: readonly AnyVariant[]): void {
    if (group.length === 0) return;
    const segment = writeSegment(
      this.#dir,
      kind,
      group.map((v) => v.response),
    );
    let offset = 0;
    for (const variant of group) {
      this.#refs.set(variant, { segment: segment.name, offset });
      offset += variant.response.length;
    }
    if (segment.written) this.#bytesWritten += offset;
  }

  #writeIndex(snapshot: Snapshot, name: string): WrittenImage {
    const segments = createTable();
    const contentTypes = createTable();
    const cacheControls = createTable();
    // By their JSON, the snapshot's own set first: most assets share it.
    const headerSets = createTable();
    headerSets.indexOf(JSON.stringify(snapshot.extraHeaders));
    let bodies = 0;
    let heads = 0;
    const assets: AssetRow[] = [];
    for (const asset of snapshot.assets.values()) {
      const cacheControl = asset.identity.headers["cache-control"] ?? "";
      assets.push([
        asset.path,
        contentTypes.indexOf(asset.contentType),
        asset.lastModified,
        cacheControls.indexOf(cacheControl),
        asset.atMaximum ? 1 : 0,
        asset.source,
        [...storedVariants(asset)].map(({ variant, dictionary }): VariantRow => {
          const ref = this.#refs.get(variant) as Ref;
          const headLength = variant.response.length - variant.size;
          bodies += variant.size;
          heads += headLength;
          const row = [
            variant.encoding,
            segments.indexOf(ref.segment),
            ref.offset,
            variant.response.length,
            headLength,
            variant.etag,
          ] as const;
          return dictionary === undefined ? row : [...row, dictionary];
        }),
        asset.extraHeaders === snapshot.extraHeaders
          ? 0
          : headerSets.indexOf(JSON.stringify(asset.extraHeaders)),
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
      headerSets: headerSets.values.map((json) => JSON.parse(json)),
      redirects: snapshot.redirects?.source,
      bodies,
      heads,
      assets,
    };
    const text = JSON.stringify(index);
    const indexPath = join(this.#dir, `${name}.json`);
    const temporary = `${indexPath}.tmp-${process.pid}`;
    writeFileSync(temporary, text);
    renameSync(temporary, indexPath);
    return {
      indexPath,
      segments: segments.values,
      bytesWritten: this.#bytesWritten,
      bodies,
      heads,
      indexBytes: Buffer.byteLength(text),
    };
  }
}

/** Small responses gathered for one pack segment. */
class Pack {
  variants: AnyVariant[] = [];
  bytes = 0;

  push(variant: AnyVariant): void {
    this.variants.push(variant);
    this.bytes += variant.response.length;
  }

  /** The variants gathered, leaving the pack empty. */
  take(): AnyVariant[] {
    const taken = this.variants;
    this.variants = [];
    this.bytes = 0;
    return taken;
  }
}

/**
 * The variants in packs whose live bytes (`refs`) are under COMPACT_BELOW of their size, to be
 * written again into new packs.
 */
function takeSparse(refs: ReadonlyMap<AnyVariant, Ref>, dir: string): AnyVariant[] {
  const live = new Map<string, number>();
  for (const [variant, ref] of refs) {
    live.set(ref.segment, (live.get(ref.segment) ?? 0) + variant.response.length);
  }
  const sparse = new Set<string>();
  for (const [segment, bytes] of live) {
    const isPack = segment.startsWith("p-");
    if (isPack && bytes < COMPACT_BELOW * segmentSize(dir, segment)) sparse.add(segment);
  }
  const taken: AnyVariant[] = [];
  for (const [variant, ref] of refs) {
    if (sparse.has(ref.segment)) taken.push(variant);
  }
  return taken;
}
