import { type ContentCoding, ENCODINGS } from "../snapshot/types.ts";

/** Every coding a response can carry: the stored encodings and the deltas (RFC 9842). */
const CODINGS: readonly ContentCoding[] = [...ENCODINGS, "dcb", "dcz"];

/** Slots per status code: one per coding, and one for responses without a variant. */
const SLOTS = CODINGS.length + 1;
const NO_VARIANT = CODINGS.length;

/**
 * What the server answered, counted as plain numbers on the hot path (two array increments per
 * response) and read only when metrics are scraped. Indexed by status code (100-599) and encoding.
 */
export class ResponseCounters {
  readonly #responses = new Float64Array(600 * SLOTS);
  #bytes = 0;

  /** One response: its status, the encoding of the variant it sent (if any), bytes written. */
  count(status: number, encoding: ContentCoding | undefined, bytes: number): void {
    const slot = encoding === undefined ? NO_VARIANT : CODINGS.indexOf(encoding);
    const index = (status % 600) * SLOTS + slot;
    this.#responses[index] = (this.#responses[index] ?? 0) + 1;
    this.#bytes += bytes;
  }

  /** Bytes written for responses (heads and bodies). */
  get bytesSent(): number {
    return this.#bytes;
  }

  /** Every non-zero count: `{ status: "200", encoding: "br", count: 12 }`; encoding "none" without a variant. */
  *entries(): Generator<{ status: string; encoding: string; count: number }> {
    for (let i = 0; i < this.#responses.length; i++) {
      const count = this.#responses[i] as number;
      if (count === 0) continue;
      const slot = i % SLOTS;
      const encoding = slot === NO_VARIANT ? "none" : (CODINGS[slot] as string);
      yield { status: String(Math.floor(i / SLOTS)), encoding, count };
    }
  }
}
