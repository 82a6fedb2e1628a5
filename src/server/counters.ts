import { ENCODINGS, type Encoding } from "../snapshot/types.ts";

/** Slots per status code: one per stored encoding, and one for responses without a variant. */
const SLOTS = ENCODINGS.length + 1;
const NO_VARIANT = ENCODINGS.length;

/**
 * What the server answered, counted as plain numbers on the hot path (two array increments per
 * response) and read only when metrics are scraped. Indexed by status code (100-599) and encoding.
 */
export class ResponseCounters {
  readonly #responses = new Float64Array(600 * SLOTS);
  #bytes = 0;

  /** One response: its status, the encoding of the variant it sent (if any), bytes written. */
  count(status: number, encoding: Encoding | undefined, bytes: number): void {
    const slot = encoding === undefined ? NO_VARIANT : ENCODINGS.indexOf(encoding);
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
      const encoding = slot === NO_VARIANT ? "none" : (ENCODINGS[slot] as string);
      yield { status: String(Math.floor(i / SLOTS)), encoding, count };
    }
  }
}
