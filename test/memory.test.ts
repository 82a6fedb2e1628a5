import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { createFixtureSite, noise } from "./support/fixture.ts";

const SIZE = 7 * 1024 * 1024;
const CLIENTS = 64;
let site: ReturnType<typeof createFixtureSite>;

beforeAll(() => {
  site = createFixtureSite({ "big.jpg": noise(SIZE, 7) });
});
afterAll(() => site.cleanup());

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Downloads the file and counts its bytes without keeping them (the client must not hold 7 MB). */
function download(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = connect(port, "127.0.0.1", () =>
      socket.write("GET /big.jpg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    socket.on("data", (chunk) => {
      received += chunk.length;
    });
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
  });
}

test(`a 7 MB file to ${CLIENTS} concurrent clients: RSS grows by far less than a copy per client`, async () => {
  const run = join(import.meta.dir, "..", "src", "cli", "run.ts");
  const child = spawn(
    process.execPath,
    [run, site.root, "--port", "0", "--no-cache-dir", "--workers", "1"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const port = await new Promise<number>((resolve) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const match = /http:\/\/[^\s]+:(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
    });
    const pid = child.pid as number;
    await download(port); // warm up: first-response allocations are not per-client cost
    const idle = rssOf(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 10);
    for (let round = 0; round < 2; round++) {
      const sizes = await Promise.all(Array.from({ length: CLIENTS }, () => download(port)));
      for (const size of sizes) expect(size).toBeGreaterThan(SIZE);
    }
    clearInterval(sampler);
    const growth = peak - idle;
    console.log(
      `memory: idle ${(idle / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB, growth per client ${(growth / CLIENTS / 2 ** 20).toFixed(2)} MiB`,
    );
    // A copy per response would be 7 MiB per client in flight (448 MiB); sharing keeps it near zero.
    expect(growth / CLIENTS).toBeLessThan(2 * 2 ** 20);
  } finally {
    child.kill("SIGKILL");
  }
}, 60_000);
