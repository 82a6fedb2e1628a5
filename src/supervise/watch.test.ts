import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchTree } from "./watch.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "memserve-watch-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const waitFor = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await Bun.sleep(10);
};

describe("watchTree", () => {
  test("a burst of writes is one call, after it goes quiet", async () => {
    let calls = 0;
    let changes = 0;
    const watcher = watchTree(root, () => calls++, { quietMs: 100, onChange: () => changes++ });
    try {
      await Bun.sleep(50);
      for (let i = 0; i < 50; i++) await writeFile(join(root, `f${i}.txt`), `${i}`);
      await waitFor(() => calls > 0, 2000);
      await Bun.sleep(200);
      expect(calls).toBe(1);
      expect(changes).toBeGreaterThanOrEqual(50);
    } finally {
      watcher.close();
    }
  });

  test("sees files in directories created after the watch started", async () => {
    let calls = 0;
    const watcher = watchTree(root, () => calls++, { quietMs: 50 });
    try {
      await Bun.sleep(50);
      await mkdir(join(root, "a/b"), { recursive: true });
      await Bun.sleep(150);
      const before = calls;
      await writeFile(join(root, "a/b/new.css"), "x");
      await waitFor(() => calls > before, 2000);
      expect(calls).toBeGreaterThan(before);
    } finally {
      watcher.close();
    }
  });

  test("steady writing still fires within maxDelayMs", async () => {
    let calls = 0;
    const watcher = watchTree(root, () => calls++, { quietMs: 200, maxDelayMs: 300 });
    try {
      await Bun.sleep(50);
      const started = Date.now();
      // A write every 50 ms never leaves 200 ms of quiet.
      while (calls === 0 && Date.now() - started < 2000) {
        await writeFile(join(root, "log.txt"), `${Date.now()}`);
        await Bun.sleep(50);
      }
      expect(calls).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      watcher.close();
    }
  });
});
