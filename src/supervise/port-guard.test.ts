import { describe, expect, test } from "bun:test";
import type { TCPSocketListenOptions } from "bun";
import {
  claimPort,
  conflicts,
  type Guard,
  guardName,
  hostsOverlap,
  IN_USE,
  parseGuards,
} from "./port-guard.ts";

const guard = (over: Partial<Guard>): Guard => ({
  port: 8080,
  shared: false,
  pid: 100,
  host: "127.0.0.1",
  ...over,
});

describe("guard names", () => {
  test("round-trip through /proc/net/unix, IPv6 hosts included", () => {
    const [a, b] = [guard({}), guard({ shared: true, pid: 7, host: "::1" })];
    const guards = [a, b, guard({ host: "" })];
    const text = [
      "Num       RefCount Protocol Flags    Type St Inode Path",
      ...guards.map((g) => `0000: 00000002 00000000 00010000 0001 01 4242 @${guardName(g)}`),
      "0000: 00000002 00000000 00010000 0001 01 4243 /run/systemd/notify",
      "0000: 00000002 00000000 00010000 0001 01 4244 @other:8080",
    ].join("\n");
    expect(parseGuards(text)).toEqual([a, b, { ...guard({}), host: "*" }]);
  });
});

describe("hostsOverlap", () => {
  test("same address, a wildcard, or localhost against a loopback address", () => {
    expect(hostsOverlap("127.0.0.1", "127.0.0.1")).toBe(true);
    expect(hostsOverlap("0.0.0.0", "10.0.0.5")).toBe(true);
    expect(hostsOverlap("::1", "::")).toBe(true);
    expect(hostsOverlap("[::1]", "::1")).toBe(true);
    expect(hostsOverlap("localhost", "127.0.0.1")).toBe(true);
    expect(hostsOverlap("127.0.0.1", "10.0.0.5")).toBe(false);
    expect(hostsOverlap("127.0.0.1", "127.0.0.2")).toBe(false);
    expect(hostsOverlap("localhost", "10.0.0.5")).toBe(false);
  });
});

describe("conflicts", () => {
  const mine = guard({ pid: 1 });
  test("only shared with shared; never with its own guard", () => {
    expect(conflicts(mine, [mine])).toBe(false);
    expect(conflicts(mine, [guard({ pid: 2 })])).toBe(true);
    expect(conflicts(mine, [guard({ pid: 2, shared: true })])).toBe(true);
    expect(conflicts({ ...mine, shared: true }, [guard({ pid: 2 })])).toBe(true);
    expect(conflicts({ ...mine, shared: true }, [guard({ pid: 2, shared: true })])).toBe(false);
  });
  test("another port or a disjoint address is no conflict", () => {
    expect(conflicts(mine, [guard({ pid: 2, port: 8081 })])).toBe(false);
    expect(conflicts(mine, [guard({ pid: 2, host: "10.0.0.5" })])).toBe(false);
    expect(conflicts(mine, [guard({ pid: 2, host: "0.0.0.0" })])).toBe(true);
  });
});

// Over real sockets, in this process: other instances are stood in for by what they would hold.
describe.skipIf(process.platform !== "linux")("claimPort", () => {
  const freePort = () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    listener.stop(true);
    return listener.port;
  };
  // `reusePort` works at runtime but is missing from Bun 1.4.5's TCPSocketListenOptions type.
  const listen = (port: number, reusePort: boolean) => {
    const options: TCPSocketListenOptions<undefined> & { reusePort: boolean } = {
      hostname: "127.0.0.1",
      port,
      reusePort,
      socket: { data() {} },
    };
    return Bun.listen(options);
  };
  const otherGuard = (port: number, shared: boolean) =>
    Bun.listen({
      unix: `\0${guardName({ port, shared, pid: 999_999_999, host: "127.0.0.1" })}`,
      socket: { data() {} },
    });

  test("port 0 always passes", () => {
    expect(() => claimPort("127.0.0.1", 0, false)).not.toThrow();
  });

  test("exclusive: refused while anything listens there, even with SO_REUSEPORT", () => {
    const port = freePort();
    const other = listen(port, true);
    try {
      expect(() => claimPort("127.0.0.1", port, false)).toThrow(IN_USE);
      expect(() => claimPort("0.0.0.0", port, false)).toThrow(IN_USE);
    } finally {
      other.stop(true);
    }
  });

  test("shared: refused while an exclusive memserve holds the port, even before it listens", () => {
    const port = freePort();
    const other = otherGuard(port, false);
    try {
      expect(() => claimPort("127.0.0.1", port, true)).toThrow(IN_USE);
    } finally {
      other.stop(true);
    }
  });

  test("shared with shared passes, and the guard is visible to the next one", async () => {
    const port = freePort();
    const other = otherGuard(port, true);
    try {
      expect(() => claimPort("127.0.0.1", port, true)).not.toThrow();
      const listed = parseGuards(await Bun.file("/proc/net/unix").text());
      expect(listed).toContainEqual({ port, shared: true, pid: process.pid, host: "127.0.0.1" });
    } finally {
      other.stop(true);
    }
  });
});
