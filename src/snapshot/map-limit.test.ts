import { describe, expect, test } from "bun:test";
import { mapWithLimit } from "./map-limit.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("mapWithLimit", () => {
  test("keeps input order whatever order calls finish in", async () => {
    const out = await mapWithLimit([30, 10, 20, 0], 4, async (ms, i) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return `${i}:${ms}`;
    });
    expect(out).toEqual(["0:30", "1:10", "2:20", "3:0"]);
  });

  test("never has more than `limit` calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    await mapWithLimit(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async () => {
        peak = Math.max(peak, ++inFlight);
        await tick();
        inFlight--;
      },
    );
    expect(peak).toBe(3);
  });

  test("handles empty input and limits below one", async () => {
    expect(await mapWithLimit([], 4, async (x) => x)).toEqual([]);
    expect(await mapWithLimit([1, 2], 0, async (x) => x + 1)).toEqual([2, 3]);
  });

  test("rejects when a call rejects", async () => {
    const failing = mapWithLimit([1, 2, 3], 2, async (x) => {
      if (x === 2) throw new Error("boom");
      return x;
    });
    await expect(failing).rejects.toThrow("boom");
  });

  test("with a budget, the costs in flight never exceed it", async () => {
    let cost = 0;
    let peak = 0;
    const sizes = [5, 4, 3, 3, 2, 2, 1, 1, 1];
    await mapWithLimit(
      sizes,
      8,
      async (size) => {
        cost += size;
        peak = Math.max(peak, cost);
        await tick();
        cost -= size;
      },
      { cost: (size) => size, max: 6 },
    );
    expect(peak).toBeLessThanOrEqual(6);
  });

  test("an item costing more than the budget still runs, alone", async () => {
    const log: string[] = [];
    await mapWithLimit(
      [10, 1],
      4,
      async (size) => {
        log.push(`start ${size}`);
        await tick();
        log.push(`end ${size}`);
      },
      { cost: (size) => size, max: 4 },
    );
    expect(log).toEqual(["start 10", "end 10", "start 1", "end 1"]);
  });

  test("later small items go ahead of one that does not fit yet", async () => {
    const started: number[] = [];
    await mapWithLimit(
      [6, 6, 1, 1],
      4,
      async (size) => {
        started.push(size);
        await tick();
      },
      { cost: (size) => size, max: 8 },
    );
    // The second 6 waits for the first; both 1s start beside the first.
    expect(started).toEqual([6, 1, 1, 6]);
  });
});
