import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { registerProcessMetrics } from "./process-metrics.ts";

/** Value of one sample line of the Prometheus text format, or undefined. */
function sample(metrics: string, line: string): number | undefined {
  const found = metrics.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

test.if(process.platform === "linux")(
  "per-process values from /proc, a gone process left out, the image by part and its tmpfs bytes",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "memserve-runtime-"));
    try {
      writeFileSync(join(dir, "p-0.seg"), Buffer.alloc(100_000, 1));
      const registry = new Registry();
      const gone = 4_194_305; // above the largest pid_max the kernel allows
      registerProcessMetrics(
        registry,
        () => [
          { role: "server", pid: process.pid },
          { role: "builder", pid: gone },
        ],
        () => ({ runtimeDir: dir, bodies: 90_000, heads: 8_000, index: 2_000 }),
      );
      const metrics = await registry.metrics();
      const self = `{role="server",pid="${process.pid}"}`;
      const rss = sample(metrics, `memserve_process_resident_memory_bytes${self}`) ?? 0;
      const pss = sample(metrics, `memserve_process_pss_bytes${self}`) ?? 0;
      const anon = sample(metrics, `memserve_process_anonymous_memory_bytes${self}`) ?? 0;
      expect(rss).toBeGreaterThan(10 * 2 ** 20);
      expect(pss).toBeGreaterThan(0);
      expect(pss).toBeLessThanOrEqual(rss);
      expect(anon).toBeGreaterThan(0);
      expect(anon).toBeLessThanOrEqual(rss);
      expect(sample(metrics, `memserve_process_cpu_seconds_total${self}`)).toBeGreaterThan(0);
      expect(sample(metrics, `memserve_process_open_fds${self}`)).toBeGreaterThanOrEqual(3);
      const started = sample(metrics, `memserve_process_start_time_seconds${self}`) ?? 0;
      expect(Math.abs(started - (Date.now() / 1000 - process.uptime()))).toBeLessThan(2);
      expect(metrics).not.toContain(`pid="${gone}"`);
      expect(sample(metrics, 'memserve_image_bytes{part="bodies"}')).toBe(90_000);
      expect(sample(metrics, 'memserve_image_bytes{part="heads"}')).toBe(8_000);
      expect(sample(metrics, 'memserve_image_bytes{part="index"}')).toBe(2_000);
      expect(sample(metrics, "memserve_shm_bytes")).toBeGreaterThanOrEqual(100_000);
    } finally {
      rmSync(dir, { recursive: true });
    }
  },
);

test("no image yet: zeros, not missing series", async () => {
  const registry = new Registry();
  registerProcessMetrics(
    registry,
    () => [],
    () => undefined,
  );
  const metrics = await registry.metrics();
  expect(sample(metrics, "memserve_shm_bytes")).toBe(0);
  expect(sample(metrics, 'memserve_image_bytes{part="bodies"}')).toBe(0);
  expect(metrics).not.toContain("memserve_process_resident_memory_bytes{");
});
