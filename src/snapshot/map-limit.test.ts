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
});
