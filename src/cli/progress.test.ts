import { describe, expect, test } from "bun:test";
import { createProgressBar, formatProgress } from "./progress.ts";

const half = { files: 5, totalFiles: 10, bytes: 512 * 1024, totalBytes: 1024 * 1024 };

describe("formatProgress", () => {
  test("bar by bytes, files, sizes and an ETA from the rate so far", () => {
    expect(formatProgress("compressing", half, 4000)).toBe(
      "compressing [############------------]  5/10 files  512.0 KiB/1.0 MiB  ETA 4 s",
    );
  });

  test("no ETA when done or before anything is done", () => {
    expect(formatProgress("x", { ...half, files: 10, bytes: 1024 * 1024 }, 1000)).not.toContain(
      "ETA",
    );
    expect(formatProgress("x", { ...half, files: 0, bytes: 0 }, 1000)).not.toContain("ETA");
  });
});

describe("createProgressBar", () => {
  test("draws in place on a terminal and clears the line when done", () => {
    const written: string[] = [];
    const bar = createProgressBar({ isTTY: true, write: (t) => written.push(t) }, "compressing");
    bar.update(half);
    bar.update(half); // throttled: within 100 ms
    bar.done();
    expect(written).toHaveLength(2);
    expect(written[0]).toStartWith("\r\x1b[2Kcompressing [");
    expect(written[1]).toBe("\r\x1b[2K");
  });

  test("writes nothing off a terminal", () => {
    const written: string[] = [];
    const bar = createProgressBar({ isTTY: false, write: (t) => written.push(t) }, "x");
    bar.update(half);
    bar.done();
    expect(written).toEqual([]);
  });
});
