import { describe, expect, test } from "bun:test";
import type { Snapshot } from "../snapshot/types.ts";
import { formatBytes, formatMemory, formatSummary, type MemoryReport } from "./summary.ts";

const MiB = 2 ** 20;

test("formatBytes", () => {
  expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(70.6 * MiB)]).toEqual([
    "0 B",
    "1023 B",
    "1.5 KiB",
    "70.6 MiB",
  ]);
});

describe("formatMemory", () => {
  const image = {
    dir: "/dev/shm/memserve-1",
    bodies: 66_375_000,
    heads: 6_187_000,
    index: 1_259_000,
    allocated: 74_030_000,
  };

  test("the doc example: image, one server, and the total that counts", () => {
    expect(
      formatMemory({
        image,
        processes: [{ role: "server", rss: 43_201_000, pss: 12_583_000, anonymous: 36_805_000 }],
      }),
    ).toEqual([
      "  memory   63.3 MiB bodies + 5.9 MiB heads + 1.2 MiB index in /dev/shm/memserve-1 (70.6 MiB allocated)",
      "  process  server 41.2 MiB RSS (PSS 12.0 MiB, anonymous 35.1 MiB)",
      "  total    105.7 MiB: 70.6 MiB on tmpfs + 35.1 MiB anonymous in 1 process",
    ]);
  });

  test("several processes: one line each; RSS and PSS are not added, anonymous memory is", () => {
    const report: MemoryReport = {
      image: { ...image, allocated: 10 * MiB },
      processes: [
        { role: "server", rss: 40 * MiB, pss: 20 * MiB, anonymous: 30 * MiB },
        { role: "worker", rss: 35 * MiB, pss: undefined, anonymous: 25 * MiB },
        { role: "builder", rss: 90 * MiB, pss: 88 * MiB, anonymous: 80 * MiB },
      ],
    };
    expect(formatMemory(report).slice(1)).toEqual([
      "  process  server 40.0 MiB RSS (PSS 20.0 MiB, anonymous 30.0 MiB)",
      "           worker 35.0 MiB RSS (anonymous 25.0 MiB)",
      "           builder 90.0 MiB RSS (PSS 88.0 MiB, anonymous 80.0 MiB)",
      "  total    145.0 MiB: 10.0 MiB on tmpfs + 135.0 MiB anonymous in 3 processes",
    ]);
  });

  test("no image: no memory line, nothing on tmpfs", () => {
    expect(
      formatMemory({
        image: undefined,
        processes: [{ role: "server", rss: 2 * MiB, pss: MiB, anonymous: MiB }],
      }),
    ).toEqual([
      "  process  server 2.0 MiB RSS (PSS 1.0 MiB, anonymous 1.0 MiB)",
      "  total    1.0 MiB: 0 B on tmpfs + 1.0 MiB anonymous in 1 process",
    ]);
  });
});

describe("formatSummary", () => {
  const snapshot = {
    assets: new Map(),
    stats: {
      files: 2,
      skipped: 0,
      rawBytes: 3 * MiB,
      bytesByEncoding: { identity: 3 * MiB, br: 0, zstd: 0, gzip: 0 },
      rawBytesCoded: { br: 0, zstd: 0, gzip: 0 },
      buildMs: 5,
      belowMaximum: 0,
    },
  } as unknown as Snapshot;
  const timing = { readyMs: 120, maximum: 180 };

  test("without a memory report: the snapshot's bytes and the process RSS", () => {
    const lines = formatSummary(snapshot, 50 * MiB, timing);
    expect(lines).toContain("  memory   3.0 MiB held in the snapshot, 50.0 MiB process RSS");
    expect(lines.at(-1)).toBe("  maximum  in 0.18 s");
  });

  test("deltas (RFC 9842): their bytes and files, when there are any", () => {
    const withDeltas = {
      ...snapshot,
      stats: { ...snapshot.stats, deltaBytes: 2048, filesWithDeltas: 3 },
    } as Snapshot;
    expect(formatSummary(withDeltas, 50 * MiB, timing)).toContain(
      "  deltas   2.0 KiB for 3 files, against their earlier versions (dcb, dcz)",
    );
    expect(formatSummary(snapshot, 50 * MiB, timing).some((l) => l.includes("deltas"))).toBe(false);
  });

  test("with one: its lines in place of the memory line", () => {
    const memory: MemoryReport = {
      image: undefined,
      processes: [{ role: "server", rss: 2 * MiB, pss: MiB, anonymous: MiB }],
    };
    const lines = formatSummary(snapshot, 50 * MiB, timing, memory);
    expect(lines.some((line) => line.includes("held in the snapshot"))).toBe(false);
    const at = lines.indexOf(formatMemory(memory)[0] as string);
    expect(lines.slice(at, at + 2)).toEqual(formatMemory(memory));
    expect(lines[at + 2]).toBe("  ready    in 0.12 s");
  });
});
