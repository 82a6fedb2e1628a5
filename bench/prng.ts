// A seeded PRNG so the corpus is the same bytes on every machine and every run: a benchmark whose
// input changes between runs cannot be compared with itself.

/** A deterministic random source (sfc32: fast, 128-bit state, good enough for synthetic content). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** `n` pseudo-random bytes: incompressible, like already-compressed media. */
  bytes(n: number): Uint8Array;
}

/**
 * A 32-bit FNV-1a hash, used to derive one independent seed per file from its path, so a file's
 * content does not depend on the order the generator visits files in.
 *
 * @example hashString("css/main.css") // 0x… (the same number every run)
 */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Creates an Rng from a 32-bit seed. */
export function createRng(seed: number): Rng {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Mixes the seed through the state: sfc32 correlates badly for the first outputs of close seeds.
  for (let i = 0; i < 15; i++) nextU32();
  const next = (): number => nextU32() / 0x1_0000_0000;
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
    chance: (p) => next() < p,
    bytes(n) {
      const words = new Uint32Array(Math.ceil(n / 4));
      for (let i = 0; i < words.length; i++) words[i] = nextU32();
      return new Uint8Array(words.buffer, 0, n);
    },
  };
}
