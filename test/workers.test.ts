/**
 * `--workers N` over real processes: every process on the port serves the same snapshot, reloads
 * reach them all, and a worker that dies is replaced.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliRun, serverPid, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { childrenOf } from "./support/processes.ts";
import { rawGet } from "./support/raw-http.ts";

let site: ReturnType<typeof createFixtureSite>;
let run: CliRun;
let port: number;
beforeAll(async () => {
  site = createFixtureSite({ "v.txt": "version 1" });
  run = await startCli([site.root, "--port", "0", "--workers", "3", "--watch", "--no-cache-dir"]);
  port = Number(new URL(run.url).port);
});
afterAll(async () => {
  run.child.kill("SIGTERM");
  await run.exited;
  site.cleanup();
});

/** PIDs of the memserve processes: the server and its workers. */
function processes(): number[] {
  const server = serverPid(run);
  return [server, ...childrenOf(server)];
}

const waitFor = async (check: () => boolean | Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms;
  while (!(await check()) && Date.now() < deadline) await Bun.sleep(50);
  return check();
};

/** Bodies of `count` requests, each on a new connection (the kernel spreads them over the processes). */
const bodies = async (count: number) =>
  Promise.all(
    Array.from({ length: count }, async () =>
      new TextDecoder().decode((await rawGet(port, "/v.txt")).body),
    ),
  );

describe("--workers 3", () => {
  test("three processes serve; a reload reaches every one of them", async () => {
    expect(await waitFor(() => processes().length === 3, 5000)).toBe(true);
    expect(new Set(await bodies(60))).toEqual(new Set(["version 1"]));
    writeFileSync(join(site.root, "v.txt"), "version 2");
    expect(
      await waitFor(async () => (await bodies(30)).every((b) => b === "version 2"), 5000),
    ).toBe(true);
    // Every process swapped: no connection lands on one still serving version 1.
    expect(new Set(await bodies(90))).toEqual(new Set(["version 2"]));
  }, 30_000);

  test("a worker that dies is replaced", async () => {
    const [, worker] = processes();
    expect(worker).toBeDefined();
    process.kill(worker as number, "SIGKILL");
    expect(await waitFor(() => run.stdout().includes("starting another"), 5000)).toBe(true);
    expect(
      await waitFor(
        () => processes().length === 3 && !processes().includes(worker as number),
        5000,
      ),
    ).toBe(true);
    expect(new Set(await bodies(60))).toEqual(new Set(["version 2"]));
  }, 30_000);
});
