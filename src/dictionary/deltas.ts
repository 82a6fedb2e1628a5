// The delta pass (RFC 9842): every file that has earlier versions (or an explicit dictionary from
// `_headers`) gets its `dcb` and `dcz` bodies against each of them, at maximum quality, made once
// and kept in the store. Background work, like the pass to maximum compression.

import { encodePath } from "../http/path.ts";
import { createAsset, type DeltaInput } from "../snapshot/asset.ts";
import { NOT_FOUND_PATH, statsFor } from "../snapshot/build.ts";
import { mapWithLimit } from "../snapshot/map-limit.ts";
import { contentTypeFor } from "../snapshot/mime.ts";
import type { CompressionStore } from "../snapshot/store.ts";
import type { Asset, Snapshot } from "../snapshot/types.ts";
import type { DictionaryHistory } from "./history.ts";
import { compileMatch, dictionaryMatchFor, useAsDictionaryFor } from "./match.ts";
import { DELTA_CODINGS, dictionaryHash, encodeDelta } from "./wire.ts";

export interface DeltaOptions {
  /** Earlier versions per match pattern a file gets deltas against. */
  readonly versions: number;
  readonly history?: DictionaryHistory | undefined;
  readonly store?: CompressionStore | undefined;
  /** The snapshot served before this one: its versions are dictionaries too. */
  readonly previous?: Snapshot | undefined;
}

interface Dictionary {
  readonly bytes: Uint8Array;
  /** SHA-256, base64 (the key of `Asset.deltas`). */
  readonly hash: string;
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

// A pass meets the same bytes several times (this snapshot, the previous one, the file itself):
// each is hashed once. Keyed by the array, which a snapshot never mutates.
const hashed = new WeakMap<Uint8Array, Dictionary>();

function dictionaryOf(bytes: Uint8Array): Dictionary {
  let dictionary = hashed.get(bytes);
  if (dictionary === undefined) {
    dictionary = { bytes, hash: base64(dictionaryHash(bytes)) };
    hashed.set(bytes, dictionary);
  }
  return dictionary;
}

/** The announced `Use-As-Dictionary` of an asset (its own or from `_headers`), if any. */
const announcement = (asset: Asset): string | undefined => asset.extraHeaders["use-as-dictionary"];

/**
 * A snapshot whose files have deltas against their dictionaries: the earlier versions of their
 * name (`dictionaryMatchFor`: in this snapshot, the previous one and the history), newest first and
 * at most `versions`, and the files whose `_headers` `Use-As-Dictionary` match covers them. A delta
 * is kept only when smaller than the file's smallest variant. Every versioned file is recorded in
 * the history (`rememberVersions`). The same snapshot when no file gains or loses a delta.
 */
export async function addDeltas(snapshot: Snapshot, options: DeltaOptions): Promise<Snapshot> {
  if (options.versions <= 0) return snapshot;
  const byMatch = new Map<string, Dictionary[]>();
  const explicit: { readonly pattern: URLPattern; readonly dictionary: Dictionary }[] = [];
  const add = (match: string, bytes: Uint8Array) => {
    const list = byMatch.get(match) ?? [];
    const dictionary = dictionaryOf(bytes);
    if (!list.some((d) => d.hash === dictionary.hash)) list.push(dictionary);
    byMatch.set(match, list);
  };
  // Newest first: this snapshot's files, then the previous snapshot's, then the history's.
  for (const source of [snapshot, options.previous]) {
    for (const asset of source?.assets.values() ?? []) {
      const value = announcement(asset);
      if (value === undefined) continue;
      const own = dictionaryMatchFor(asset.path);
      if (own !== undefined && value === useAsDictionaryFor(asset.path))
        add(own, asset.identity.bytes);
      else if (source === snapshot) {
        const pattern = compileMatch(value);
        if (pattern !== undefined)
          explicit.push({ pattern, dictionary: dictionaryOf(asset.identity.bytes) });
      }
    }
  }
  for (const [match] of byMatch) {
    for (const bytes of (await options.history?.versions(match)) ?? []) add(match, bytes);
  }
  if (options.history !== undefined)
    await rememberVersions(options.history, options.previous, snapshot);

  const assets = new Map(snapshot.assets);
  let changed = false;
  const candidates = [...snapshot.assets.values()].filter(
    (asset) => contentTypeFor(asset.path).compressible && asset.identity.size > 0,
  );
  await mapWithLimit(candidates, 2, async (asset) => {
    const own = dictionaryMatchFor(asset.path);
    const versions = own === undefined ? [] : (byMatch.get(own) ?? []);
    const shared = explicit.filter((e) => e.pattern.test({ pathname: encodePath(asset.path) }));
    if (versions.length + shared.length === 0 && asset.deltas.size === 0) return;
    // A file is never its own dictionary.
    const hash = dictionaryOf(asset.identity.bytes).hash;
    const dictionaries = [
      ...versions.filter((d) => d.hash !== hash).slice(0, options.versions),
      ...shared.map((e) => e.dictionary).filter((d) => d.hash !== hash),
    ];
    const deltas = await deltasFor(asset, dictionaries, options.store);
    if (sameDeltas(asset, deltas)) return;
    changed = true;
    assets.set(asset.path, rebuild(asset, deltas));
  });
  if (!changed) return snapshot;
  return Object.freeze({
    ...snapshot,
    assets: Object.freeze(assets),
    notFoundPage: assets.get(NOT_FOUND_PATH),
    stats: statsFor(assets, snapshot.stats.skipped, snapshot.stats.buildMs),
  });
}

/**
 * Records every versioned file of `snapshots` (oldest first) in the history. The builder calls it
 * as soon as a build is served, with the snapshot it replaces, so a version is remembered even
 * when the next deploy comes before the delta pass is done.
 */
export async function rememberVersions(
  history: DictionaryHistory,
  ...snapshots: readonly (Snapshot | undefined)[]
): Promise<void> {
  const assets = snapshots.flatMap((snapshot) => [...(snapshot?.assets.values() ?? [])]);
  for (const asset of assets) {
    const match = dictionaryMatchFor(asset.path);
    if (match !== undefined && announcement(asset) === useAsDictionaryFor(asset.path)) {
      await history.record(match, asset.identity.bytes);
    }
  }
}

/** Each coding against each dictionary, from the store or made now; only those worth sending. */
async function deltasFor(
  asset: Asset,
  dictionaries: readonly Dictionary[],
  store: CompressionStore | undefined,
): Promise<DeltaInput[]> {
  const smallest = Math.min(...asset.variants.map((v) => v.size));
  const raw = asset.identity.bytes;
  const made = await Promise.all(
    dictionaries.flatMap((dictionary) =>
      DELTA_CODINGS.map(async (coding): Promise<DeltaInput> => {
        const key = { source: raw, codec: coding, level: levelOf(dictionary) };
        let bytes = await store?.get(key);
        if (bytes === undefined) {
          bytes = await encodeDelta(coding, dictionary.bytes, raw);
          await store?.put(key, bytes);
        }
        return { dictionary: dictionary.hash, coding, bytes };
      }),
    ),
  );
  return made.filter((delta) => delta.bytes.length < smallest);
}

/** The store level naming the dictionary: `d` and 31 hex digits of its SHA-256. */
function levelOf(dictionary: Dictionary): string {
  return deltaLevel(Buffer.from(dictionary.hash, "base64"));
}

/** The store level of deltas against the dictionary with this SHA-256 (`memserve prune` keeps them). */
export function deltaLevel(sha256: Uint8Array): string {
  return `d${Buffer.from(sha256).toString("hex").slice(0, 31)}`;
}

function sameDeltas(asset: Asset, deltas: readonly DeltaInput[]): boolean {
  let count = 0;
  for (const list of asset.deltas.values()) count += list.length;
  if (count !== deltas.length) return false;
  return deltas.every((d) =>
    asset.deltas
      .get(d.dictionary)
      ?.some((v) => v.encoding === d.coding && sameBytes(v.bytes, d.bytes)),
  );
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a === b || Buffer.from(a).equals(Buffer.from(b));

function rebuild(asset: Asset, deltas: readonly DeltaInput[]): Asset {
  return createAsset({
    path: asset.path,
    contentType: asset.contentType,
    mtimeMs: asset.lastModified,
    cacheControl: asset.identity.headers["cache-control"] ?? "",
    encoded: asset.variants.map((v) => ({ encoding: v.encoding, bytes: v.bytes })),
    extraHeaders: asset.extraHeaders,
    atMaximum: asset.atMaximum,
    source: asset.source,
    previous: asset,
    deltas,
  });
}
