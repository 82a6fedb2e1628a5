import { describe, expect, test } from "bun:test";
import { ResponseCounters } from "./counters.ts";

describe("ResponseCounters", () => {
  test("counts by status and encoding, and sums bytes", () => {
    const counters = new ResponseCounters();
    counters.count(200, "br", 100);
    counters.count(200, "br", 50);
    counters.count(304, "identity", 10);
    counters.count(404, undefined, 5);
    expect([...counters.entries()]).toEqual([
      { status: "200", encoding: "br", count: 2 },
      { status: "304", encoding: "identity", count: 1 },
      { status: "404", encoding: "none", count: 1 },
    ]);
    expect(counters.bytesSent).toBe(165);
  });

  test("starts empty", () => {
    expect([...new ResponseCounters().entries()]).toEqual([]);
  });
});
