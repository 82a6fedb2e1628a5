// The builder process (issue: serving processes that only serve): it can die at any point and the
// server keeps serving; images persist for a warm start and a damaged one is never served.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliRun, serverPid, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { childrenOf } from "./support/processes.ts";

const cacheDir = mkdtempSync(join(tmpdir(), "memserve-builder-cache-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Text that brotli 11 takes a while over, so the upgrade pass is still running when killed. */
const bulky = (seed: number) =>
  Array.from({ length: 120_000 }, (_, i) => `line ${(i * 7919 + seed) % 100_003} of ${seed}`).join(
    "\n",
  );

/** The builder is a child of the server process. */
const builderPids = (run: CliRun): number[] => childrenOf(serverPid(run));

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(50);
  }
  return false;
}

async function stop(run: CliRun): Promise<void> {
  run.child.kill("SIGTERM");
  await run.exited;
}

describe("builder process", () => {
  test("killed mid-pass: the server keeps serving, says so, and the next reload works", async () => {
    const site = createFixtureSite({ "bulky.txt": bulky(1) });
    const run = await startCli([site.root, "--port", "0", "--no-cache-dir"]);
    try {
      const pids = builderPids(run);
      expect(pids.length).toBe(1);
      process.kill(pids[0] as number, "SIGKILL");
      expect(await until(() => /builder exited/.test(run.stdout()))).toBe(true);
      expect((await fetch(`${run.url}/bulky.txt`)).status).toBe(200);
      writeFileSync(join(site.root, "new.txt"), "fresh");
      run.child.kill("SIGHUP");
      expect(await until(async () => (await fetch(`${run.url}/new.txt`)).status === 200)).toBe(
        true,
      );
      expect(await (await fetch(`${run.url}/new.txt`)).text()).toBe("fresh");
    } finally {
      await stop(run);
      site.cleanup();
    }
  });

  test("killed mid-reload: the previous version stays served; the next reload recovers", async () => {
    const site = createFixtureSite({ "a.txt": "one" });
    const run = await startCli([site.root, "--port", "0", "--no-cache-dir"]);
    try {
      await until(() => /maximum +in/.test(run.stdout()));
      writeFileSync(join(site.root, "bulky.txt"), bulky(2));
      writeFileSync(join(site.root, "a.txt"), "two");
      run.child.kill("SIGHUP");
      expect(await until(() => builderPids(run).length === 1)).toBe(true);
      for (const pid of builderPids(run)) process.kill(pid, "SIGKILL");
      expect(await until(() => /reload failed \(builder exited/.test(run.stdout()))).toBe(true);
      expect(await (await fetch(`${run.url}/a.txt`)).text()).toBe("one");
      run.child.kill("SIGHUP");
      expect(
        await until(async () => (await (await fetch(`${run.url}/a.txt`)).text()) === "two"),
      ).toBe(true);
    } finally {
      await stop(run);
      site.cleanup();
    }
  }, 30_000);

  test("warm start serves the persisted image; a corrupt one is never served", async () => {
    const site = createFixtureSite({ "bulky.txt": bulky(3) });
    const args = [site.root, "--port", "0", "--cache-dir", cacheDir];
    const first = await startCli(args);
    const expected = await (await fetch(`${first.url}/bulky.txt`)).text();
    expect(await until(() => /maximum +in/.test(first.stdout()), 60_000)).toBe(true);
    await stop(first);
    const [images] = readdirSync(join(cacheDir, "images"));
    const dir = join(cacheDir, "images", images as string);
    expect(readdirSync(dir)).toContain("image.json");

    const warm = await startCli(args);
    try {
      expect(await until(() => /warm start/.test(warm.stdout()))).toBe(true);
      expect(await (await fetch(`${warm.url}/bulky.txt`)).text()).toBe(expected);
    } finally {
      await stop(warm);
    }

    // Flip a byte in every segment: the image must be refused and the site built again.
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".seg"))) {
      const bytes = readFileSync(join(dir, name));
      const middle = bytes.length >> 1;
      bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
      writeFileSync(join(dir, name), bytes);
    }
    const cold = await startCli(args);
    try {
      await until(() => /ready +in/.test(cold.stdout()));
      expect(cold.stdout()).not.toMatch(/warm start/);
      expect(await (await fetch(`${cold.url}/bulky.txt`)).text()).toBe(expected);
    } finally {
      await stop(cold);
      site.cleanup();
    }
  }, 120_000);
});
