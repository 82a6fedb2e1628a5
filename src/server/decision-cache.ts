import type { Outcome } from "../http/decide.ts";
import type { RequestHead } from "./http1-parse.ts";

export interface Decision {
  readonly head: RequestHead;
  readonly outcome: Outcome;
}

/**
 * Remembers the decision for each distinct request head, byte for byte. A head determines its
 * answer (decide() is pure over the snapshot), and real traffic repeats heads: a browser sends the
 * same fields for every asset of a page, a load test one head forever. A hit skips parsing,
 * path decoding and negotiation. Bounded in entries and in head length, and emptied when full, so
 * unique heads (an attacker's) cost a miss each and no memory growth. One cache per snapshot.
 */
export class DecisionCache {
  private readonly entries = new Map<string, Decision>();

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxHeadLength = 2048,
  ) {}

  get(head: string): Decision | undefined {
    return this.entries.get(head);
  }

  remember(head: string, decision: Decision): void {
    if (head.length > this.maxHeadLength) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(head, decision);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
