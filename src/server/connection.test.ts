import { describe, expect, test } from "bun:test";
import { bySendfile, newConnection, type Sock } from "./connection.ts";

const INF = Number.POSITIVE_INFINITY;

/** A connection as the engine makes it, on a socket whose descriptor is `fd`. */
function connection(fd: unknown, min: number, max: number, large: number) {
  return newConnection({ fd } as unknown as Sock, { min, max, large });
}

describe("bySendfile: which body lengths leave by sendfile(2)", () => {
  const conn = connection(7, 64, 192, 2048);

  test.each([
    [0, false],
    [63, false],
    [64, true],
    [191, true],
    [192, false],
    [2047, false],
    [2048, true],
    [10_000_000, true],
  ])("%d bytes with bands [64, 192) and [2048, ∞): %p", (length, expected) => {
    expect(bySendfile(conn, length)).toBe(expected);
  });

  test("no upper limit: every body from the minimum on", () => {
    const all = connection(7, 1, INF, INF);
    expect([bySendfile(all, 0), bySendfile(all, 1), bySendfile(all, 1 << 30)]).toEqual([
      false,
      true,
      true,
    ]);
  });

  test("the large band off (Infinity): only the first band", () => {
    const first = connection(7, 64, 192, INF);
    expect([bySendfile(first, 100), bySendfile(first, 1 << 30)]).toEqual([true, false]);
  });

  test("sendfile off (no bands): never", () => {
    const off = newConnection({ fd: 7 } as unknown as Sock, undefined);
    expect([bySendfile(off, 100), bySendfile(off, 4096)]).toEqual([false, false]);
  });

  test("a socket without a usable descriptor writes every body", () => {
    for (const fd of [undefined, -1, "3"]) {
      const conn = connection(fd, 64, 192, 2048);
      expect([conn.fd, bySendfile(conn, 100), bySendfile(conn, 4096)]).toEqual([-1, false, false]);
    }
  });
});
