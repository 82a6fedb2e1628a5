import Negotiator from "negotiator";
import { parseAvailableDictionary } from "../dictionary/wire.ts";
import type { Asset, ContentCoding, DeltaCoding, Encoding, Variant } from "../snapshot/types.ts";

/**
 * `encodings(available, { preferred })` exists in negotiator 1.x but @types/negotiator 0.6 predates
 * the option, so this is the shape we rely on.
 */
interface EncodingNegotiator {
  encodings(available: readonly string[], options: { preferred: readonly string[] }): string[];
}

/** Distinct Accept-Encoding values remembered; real traffic has a handful, an attacker unbounded. */
const MAX_CACHED_HEADERS = 1000;

/**
 * Real Accept-Encoding values are under 100 characters. Negotiator's cost grows with the number of
 * list elements (a unique 20 kB value costs ~10 ms), so longer values are disregarded instead.
 */
const MAX_HEADER_LENGTH = 1024;

/**
 * `map.get(key)`, made by `make(key)` on a miss; a map that reaches MAX_CACHED_HEADERS is cleared
 * first, so distinct header values cannot grow it without bound. `make` is a module-level function:
 * no closure is allocated per request.
 */
function remembered<V>(map: Map<string, V>, key: string, make: (key: string) => V): V {
  let value = map.get(key);
  if (value === undefined) {
    if (map.size >= MAX_CACHED_HEADERS) map.clear();
    value = make(key);
    map.set(key, value);
  }
  return value;
}

/** header value -> (variants' encodings joined by ",") -> chosen encoding, or null for "nothing". */
const cache = new Map<string, Map<string, Encoding | null>>();
const orderKeys = new WeakMap<readonly Variant[], string>();
const newByOrder = (): Map<string, Encoding | null> => new Map();

/**
 * Picks the variant to send for an Accept-Encoding value (RFC 9110 §12.5.3): highest q first, ties
 * broken by the server's preference, which is the order of `variants` (ascending size).
 * `[br, gzip, identity]` with `"gzip, deflate, br"` -> the br variant; with `null` -> identity.
 *
 * No header and an empty header both get identity: we do not push codings on clients that did not
 * ask. When the header rules out every stored variant (`identity;q=0` with no acceptable coding), the
 * header is disregarded and identity is sent, as RFC 9110 §12.5.1 allows, rather than a 406. The
 * same holds for values longer than 1024 characters, which only an attacker sends.
 */
export function chooseVariant(
  variants: readonly Variant[],
  acceptEncoding: string | null,
): Variant {
  const identity = identityOf(variants);
  if (acceptEncoding === null || acceptEncoding === "" || variants.length < 2) return identity;
  if (acceptEncoding.length > MAX_HEADER_LENGTH) return identity;
  const key = orderKeyOf(variants);
  const byOrder = remembered(cache, acceptEncoding, newByOrder);
  let chosen = byOrder.get(key);
  if (chosen === undefined) {
    chosen = negotiate(variants, acceptEncoding);
    byOrder.set(key, chosen);
  }
  if (chosen === null) return identity;
  return variants.find((v) => v.encoding === chosen) ?? identity;
}

/** Accept-Encoding value -> the delta codings it allows (q > 0), remembered like `cache`. */
const deltaCache = new Map<string, ReadonlySet<DeltaCoding>>();

function allowedDeltas(acceptEncoding: string): ReadonlySet<DeltaCoding> {
  return remembered(deltaCache, acceptEncoding, rankDeltas);
}

function rankDeltas(acceptEncoding: string): ReadonlySet<DeltaCoding> {
  const ranked = rank(acceptEncoding, ["dcb", "dcz"]) ?? [];
  return new Set(ranked.filter((c): c is DeltaCoding => c === "dcb" || c === "dcz"));
}

/**
 * The representation to send (RFC 9842 §6): a delta against the dictionary the request names in
 * Available-Dictionary when the asset has one, Accept-Encoding allows its coding, and it is
 * smaller than the variant `chooseVariant` picks; else that variant.
 */
export function chooseRepresentation(
  asset: Asset,
  acceptEncoding: string | null,
  availableDictionary: string | null,
): Variant<ContentCoding> {
  const chosen = chooseVariant(asset.variants, acceptEncoding);
  if (asset.deltas.size === 0 || acceptEncoding === null) return chosen;
  if (acceptEncoding.length > MAX_HEADER_LENGTH) return chosen;
  const hash = parseAvailableDictionary(availableDictionary);
  const deltas = hash === undefined ? undefined : asset.deltas.get(hash);
  if (deltas === undefined) return chosen;
  const allowed = allowedDeltas(acceptEncoding);
  const delta = deltas.find((d) => allowed.has(d.encoding));
  return delta !== undefined && delta.size < chosen.size ? delta : chosen;
}

/** `available` that the header accepts (q > 0), best first, ties in the given order; undefined if it throws. */
function rank(acceptEncoding: string, available: readonly string[]): string[] | undefined {
  const negotiator = new Negotiator({
    headers: { "accept-encoding": acceptEncoding },
  }) as unknown as EncodingNegotiator;
  try {
    return negotiator.encodings(available, { preferred: available });
  } catch {
    // The parser is lenient and should not throw; if a future version does, garbage accepts nothing.
    return undefined;
  }
}

function negotiate(variants: readonly Variant[], acceptEncoding: string): Encoding | null {
  const available = variants.map((v) => v.encoding);
  const best = rank(acceptEncoding, available)?.[0];
  return available.find((e) => e === best) ?? null;
}

function orderKeyOf(variants: readonly Variant[]): string {
  let key = orderKeys.get(variants);
  if (key === undefined) {
    key = variants.map((v) => v.encoding).join(",");
    orderKeys.set(variants, key);
  }
  return key;
}

/** The snapshot guarantees an identity variant; the fallback only keeps a broken asset servable. */
function identityOf(variants: readonly Variant[]): Variant {
  const identity = variants.find((v) => v.encoding === "identity") ?? variants[variants.length - 1];
  if (identity === undefined) throw new TypeError("an asset needs at least one variant");
  return identity;
}
