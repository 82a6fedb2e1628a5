import { describe, expect, test } from "bun:test";
import { judge, parentGone, REPEAT_MS } from "./signals.ts";

describe("judge", () => {
  test("the first trigger of any kind drains", () => {
    expect(judge(undefined, 5, true)).toBe("drain");
    expect(judge(undefined, 5, false)).toBe("drain");
  });
  test("a signal within REPEAT_MS of the first is the same one, delivered again", () => {
    expect(judge(1000, 1000, true)).toBe("ignore");
    expect(judge(1000, 1000 + REPEAT_MS - 1, true)).toBe("ignore");
  });
  test("a new signal after that exits at once", () => {
    expect(judge(1000, 1000 + REPEAT_MS, true)).toBe("exit");
  });
  test("a parent or primary that goes away during a drain never escalates it", () => {
    expect(judge(1000, 1000 + 10 * REPEAT_MS, false)).toBe("ignore");
  });
});

describe("parentGone", () => {
  test("reparented (to init or a subreaper)", () => {
    expect(parentGone(4321, 4321)).toBe(false);
    expect(parentGone(4321, 1)).toBe(true);
    expect(parentGone(4321, 77)).toBe(true);
  });
  test("started by PID 1 (systemd, a container's init): nothing to watch", () => {
    expect(parentGone(1, 1)).toBe(false);
    expect(parentGone(0, 1)).toBe(false);
  });
});
