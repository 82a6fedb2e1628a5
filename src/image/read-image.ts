import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { compileRedirects } from "../rules/redirects.ts";
import { byDictionary, makeVariant } from "../snapshot/asset.ts";
import { NOT_FOUND_PATH } from "../snapshot/build.ts";
import { notModifiedHeaders, okHeaders, varyFor } from "../snapshot/headers.ts";
import type {
  Asset,
  ContentCoding,
  DeltaCoding,
  Encoding,
  Snapshot,
  Variant,
} from "../snapshot/types.ts";

type HeaderSet = Readonly<Record<string, string>>;

import { type ImageIndex, parseIndex } from "./image-index.ts";
import { mapSegment, viewOf } from "./segments.ts";

export interface ReadImageOptions {
  /**
   * Assets kept as objects once made (default 8192; emptied when full). A serving process makes an
   * asset's objects when it is first requested, so the per-file cost of a large site is its index
   * row, not a few kilobytes of objects. `Infinity` (the builder): every asset stays the same object.
   */
  readonly cachedAssets?: number;
}

/** A snapshot read from an image, with what its index says it holds. */
export interface ImageSnapshot extends Snapshot {
  readonly image: {
    readonly indexPath: string;
    readonly segments: readonly string[];
    readonly bodies: number;
    readonly heads: number;
    readonly indexBytes: number;
  };
}

/**
 * Maps an image written by `writeImage` and serves its snapshot from the mapping: no body is
 * copied, every `response` is a view of a mapped segment. Asset objects are made on first use.
 *
 * @throws Error when the index is not an image index or a segment it names cannot be mapped.
 */
export function readImage(indexPath: string, options: ReadImageOptions = {}): ImageSnapshot {
  const absPath = resolve(indexPath);
  const text = readFileSync(absPath, "utf8");
  const index = parseIndex(text, absPath);
  const dir = dirname(absPath);
  const maps = index.segments.map((segment) => mapSegment(dir, segment));
  const assets = new ImageAssets(index, dir, maps, options.cachedAssets ?? 8192);
  return Object.freeze({
    root: index.root,
    assets,
    notFoundPage: assets.get(NOT_FOUND_PATH),
    extraHeaders: index.extraHeaders,
    stats: index.stats,
    redirects:
      index.redirects === undefined
        ? undefined
        : compileRedirects(index.redirects.text, index.redirects.file).table,
    image: Object.freeze({
      indexPath: absPath,
      segments: index.segments,
      bodies: index.bodies,
      heads: index.heads,
      indexBytes: Buffer.byteLength(text),
    }),
  });
}

let collecting: ReturnType<typeof setTimeout> | undefined;

/**
 * Call when a snapshot read by `readImage` was replaced. Its mappings are unmapped by the garbage
 * collector once no view of them is left, and the segments a newer image dropped hold their tmpfs
 * pages until then: a full collection a second after the last swap frees them in seconds (with
 * no allocation, an idle process would never collect; a non-blocking `Bun.gc(false)` left a
 * worker's 66 MiB of old mappings in place in 1 of 3 runs on 20,000 files).
 */
export function unmapReplacedSoon(): void {
  clearTimeout(collecting);
  collecting = setTimeout(() => Bun.gc(true), 1000);
  collecting.unref();
}

const ENCODING_CODES: readonly ContentCoding[] = ["identity", "br", "zstd", "gzip", "dcb", "dcz"];

/**
 * The assets of an image as a read-only Map. The index is kept as columns (typed arrays and a few
 * string arrays), and an `Asset` with its variants and header sets is made when looked up.
 */
class ImageAssets implements ReadonlyMap<string, Asset> {
  readonly #positions = new Map<string, number>();
  readonly #paths: string[];
  readonly #sources: string[];
  readonly #etags: string[];
  readonly #contentType: Uint16Array;
  readonly #cacheControl: Uint16Array;
  readonly #headerSet: Uint32Array;
  readonly #lastModified: Float64Array;
  readonly #atMaximum: Uint8Array;
  /** Asset i's variants are `#variantStart[i]` up to `#variantStart[i + 1]`. */
  readonly #variantStart: Uint32Array;
  readonly #encoding: Uint8Array;
  readonly #segment: Uint32Array;
  readonly #offset: Float64Array;
  readonly #length: Float64Array;
  readonly #headLength: Uint32Array;
  /** Variant number -> its dictionary's hash (base64), for the deltas only (most images: none). */
  readonly #dictionary = new Map<number, string>();
  readonly #made = new Map<number, Asset>();

  /** The index's tables only: its rows are copied into the columns and then let go. */
  readonly #tables: Pick<ImageIndex, "contentTypes" | "cacheControls" | "segments" | "headerSets">;

  constructor(
    index: ImageIndex,
    private readonly dir: string,
    private readonly maps: readonly Uint8Array[],
    private readonly cachedAssets: number,
  ) {
    const { contentTypes, cacheControls, segments } = index;
    // Set 0 is the snapshot's own: the same object, as the build made it.
    const headerSets = index.headerSets.map((set, i) =>
      i === 0 ? index.extraHeaders : Object.freeze(set),
    );
    this.#tables = { contentTypes, cacheControls, segments, headerSets };
    const rows = index.assets;
    const variantCount = rows.reduce((sum, row) => sum + row[6].length, 0);
    this.#paths = new Array(rows.length);
    this.#sources = new Array(rows.length);
    this.#etags = new Array(variantCount);
    this.#contentType = new Uint16Array(rows.length);
    this.#cacheControl = new Uint16Array(rows.length);
    this.#headerSet = new Uint32Array(rows.length);
    this.#lastModified = new Float64Array(rows.length);
    this.#atMaximum = new Uint8Array(rows.length);
    this.#variantStart = new Uint32Array(rows.length + 1);
    this.#encoding = new Uint8Array(variantCount);
    this.#segment = new Uint32Array(variantCount);
    this.#offset = new Float64Array(variantCount);
    this.#length = new Float64Array(variantCount);
    this.#headLength = new Uint32Array(variantCount);
    let v = 0;
    rows.forEach(([path, type, modified, cache, atMaximum, source, variants, headerSet], i) => {
      this.#positions.set(path, i);
      this.#paths[i] = path;
      this.#sources[i] = source;
      this.#contentType[i] = type;
      this.#cacheControl[i] = cache;
      if (headerSets[headerSet] === undefined) throw new Error(`bad header set number in ${path}`);
      this.#headerSet[i] = headerSet;
      this.#lastModified[i] = modified;
      this.#atMaximum[i] = atMaximum;
      this.#variantStart[i] = v;
      for (const [encoding, segment, offset, length, headLength, etag, dictionary] of variants) {
        if (maps[segment] === undefined) throw new Error(`bad segment number in ${path}`);
        this.#encoding[v] = ENCODING_CODES.indexOf(encoding);
        this.#segment[v] = segment;
        this.#offset[v] = offset;
        this.#length[v] = length;
        this.#headLength[v] = headLength;
        this.#etags[v] = etag;
        if (dictionary !== undefined) this.#dictionary.set(v, dictionary);
        v++;
      }
    });
    this.#variantStart[rows.length] = v;
  }

  get size(): number {
    return this.#paths.length;
  }

  has(path: string): boolean {
    return this.#positions.has(path);
  }

  get(path: string): Asset | undefined {
    const position = this.#positions.get(path);
    return position === undefined ? undefined : this.#assetAt(position);
  }

  *entries(): MapIterator<[string, Asset]> {
    for (let i = 0; i < this.#paths.length; i++) yield [this.#paths[i] as string, this.#assetAt(i)];
  }

  keys(): MapIterator<string> {
    return this.#paths[Symbol.iterator]() as MapIterator<string>;
  }

  *values(): MapIterator<Asset> {
    for (let i = 0; i < this.#paths.length; i++) yield this.#assetAt(i);
  }

  [Symbol.iterator](): MapIterator<[string, Asset]> {
    return this.entries();
  }

  forEach(callback: (value: Asset, key: string, map: ReadonlyMap<string, Asset>) => void): void {
    for (const [path, asset] of this.entries()) callback(asset, path, this);
  }

  #assetAt(position: number): Asset {
    let asset = this.#made.get(position);
    if (asset === undefined) {
      if (this.#made.size >= this.cachedAssets) this.#made.clear();
      asset = this.#makeAsset(position);
      this.#made.set(position, asset);
    }
    return asset;
  }

  #makeAsset(i: number): Asset {
    const path = this.#paths[i] as string;
    const contentType = this.#tables.contentTypes[this.#contentType[i] as number] as string;
    const cacheControl = this.#tables.cacheControls[this.#cacheControl[i] as number] as string;
    const extraHeaders = this.#tables.headerSets[this.#headerSet[i] as number] as HeaderSet;
    const lastModified = this.#lastModified[i] as number;
    const lastModifiedText = new Date(lastModified).toUTCString();
    const start = this.#variantStart[i] as number;
    const end = this.#variantStart[i + 1] as number;
    let own = 0;
    for (let v = start; v < end; v++) if (!this.#dictionary.has(v)) own++;
    const vary = varyFor(own, own < end - start);
    const variants: Variant[] = [];
    const deltas: [string, Variant<DeltaCoding>][] = [];
    for (let v = start; v < end; v++) {
      const segment = this.#segment[v] as number;
      const length = this.#length[v] as number;
      const headLength = this.#headLength[v] as number;
      const etag = this.#etags[v] as string;
      const encoding = ENCODING_CODES[this.#encoding[v] as number] as ContentCoding;
      const location = {
        dir: this.dir,
        segment: this.#tables.segments[segment] as string,
        offset: this.#offset[v] as number,
      };
      const facts = {
        contentType,
        encoding,
        size: length - headLength,
        etag,
        lastModified: lastModifiedText,
        cacheControl,
        vary,
      };
      const variant = makeVariant({
        encoding,
        response: viewOf(this.maps[segment] as Uint8Array, location, length),
        headLength,
        etag,
        headers: okHeaders(facts, extraHeaders),
        notModifiedHeaders: notModifiedHeaders(facts, extraHeaders),
      });
      const dictionary = this.#dictionary.get(v);
      if (dictionary === undefined) variants.push(variant as Variant<Encoding>);
      else deltas.push([dictionary, variant as Variant<DeltaCoding>]);
    }
    const identity = variants.find((v) => v.encoding === "identity");
    if (identity === undefined) throw new Error(`no identity variant for ${path}`);
    return Object.freeze({
      path,
      contentType,
      lastModified,
      atMaximum: this.#atMaximum[i] === 1,
      source: this.#sources[i] as string,
      extraHeaders,
      identity,
      variants: Object.freeze(variants),
      deltas: byDictionary(deltas),
    });
  }
}
