import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatMemory } from "../cli/summary.ts";
import { readMemoryReport } from "./memory-report.ts";

test.if(process.platform === "linux")("this process and an image directory, read live", () => {
  const dir = mkdtempSync(join(tmpdir(), "memserve-runtime-"));
  try {
    writeFileSync(join(dir, "p-0.seg"), Buffer.alloc(64 * 1024, 1));
    const report = readMemoryReport(
      [
        { role: "server", pid: process.pid },
        { role: "builder", pid: 4_194_305 }, // gone: above the largest pid_max
      ],
      { runtimeDir: dir, bodies: 60_000, heads: 4_000, index: 500 },
    );
    expect(report.processes).toHaveLength(1);
    const [server] = report.processes;
    expect(server?.role).toBe("server");
    expect(server?.rss).toBeGreaterThan(server?.anonymous ?? Infinity);
    expect(server?.pss).toBeGreaterThan(0);
    expect(report.image).toMatchObject({ dir, bodies: 60_000, heads: 4_000, index: 500 });
    expect(report.image?.allocated).toBeGreaterThanOrEqual(64 * 1024);
    expect(formatMemory(report)).toHaveLength(3);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
