import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runCli, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";

let site: ReturnType<typeof createFixtureSite>;

beforeAll(() => {
  site = createFixtureSite();
});
afterAll(() => site.cleanup());

describe("memserve CLI (black box)", () => {
  test("serves a directory, prints the URL and a summary, exits 0 on SIGTERM", async () => {
    const run = await startCli([site.root, "--port", "0", "--header", "X-Test: yes", "--cors"]);
    const res = await fetch(`${run.url}/css/site.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-test")).toBe("yes");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    await Bun.sleep(100);
    expect(run.stdout()).toMatch(/files +\d+ loaded/);
    expect(run.stdout()).toMatch(/br +[\d.]+ [KMG]?i?B \(-\d+%\)/);
    expect(run.stdout()).toMatch(/memory +[\d.]+ [KMG]?i?B bodies \+ [\d.]+ [KMG]?i?B heads/);
    expect(run.stdout()).toMatch(/process +server [\d.]+ [KMG]?i?B RSS/);
    expect(run.stdout()).toMatch(/ready +in [\d.]+ s/);
    expect(run.stdout()).toMatch(/maximum +(in [\d.]+ s|compressing in the background)/);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });

  test("SIGINT also exits 0", async () => {
    const run = await startCli([site.root, "--port", "0"]);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });

  test("an empty directory is served with a warning; PORT is honoured", async () => {
    const empty = mkdtempSync(join(tmpdir(), "memserve-empty-"));
    try {
      const port = await freePort();
      const run = await startCli([empty, "--no-cache-dir"], 20_000, {
        env: { PORT: String(port) },
      });
      expect(run.url).toBe(`http://127.0.0.1:${port}`);
      expect(run.stderr()).toContain(`no files to serve in ${empty}`);
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("--spa and --cache-control are applied", async () => {
    const run = await startCli([site.root, "-p", "0", "--spa", "--cache-control", "no-store"]);
    try {
      const res = await fetch(`${run.url}/some/client/route`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  });

  test("--help prints usage and exits 0", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: memserve <dir> [options]");
    expect(stdout).toContain("--port");
  });

  test.each([
    [["--port", "99999", "."], /--port/],
    [["--bogus", "."], /bogus/],
    [[], /missing <dir>/],
    [[".", "--workers", "0"], /--workers/],
    [[".", "--header", "no colon"], /--header/],
    [[".", "--header", "Content-Length: 5"], /content-length cannot be set/],
  ])("bad command line %j: clear message, exit 2", async (args, message) => {
    const { code, stderr } = await runCli(args as string[]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message as RegExp);
  });

  test("a missing directory: clear message, exit 1", async () => {
    const { code, stderr } = await runCli([join(site.root, "nope"), "--port", "0"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no such directory/);
  });

  test("a file instead of a directory: clear message, exit 1", async () => {
    const { code, stderr } = await runCli([join(site.root, "index.html"), "--port", "0"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/not a directory/);
  });

  test("a port in use: clear message, exit 1", async () => {
    const blocker = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const { code, stderr } = await runCli([site.root, "--port", String(blocker.port)]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/already in use/);
    } finally {
      blocker.stop(true);
    }
  });

  test("entries it cannot serve are reported and skipped, the rest is served", async () => {
    // Running as root, chmod 000 does not stop reads, so unservable entries are made another way:
    // a dangling symlink and a named pipe (reading a pipe would block the load).
    const broken = join(site.root, "dangling.txt");
    const fifo = join(site.root, "pipe.txt");
    symlinkSync(join(site.root, "does-not-exist"), broken);
    execFileSync("mkfifo", [fifo]);
    const run = await startCli([site.root, "--port", "0"]);
    try {
      expect((await fetch(`${run.url}/css/site.css`)).status).toBe(200);
      // A warm start (an earlier test persisted this site's image) warns from its background check.
      for (let i = 0; i < 100 && !/pipe\.txt/.test(run.stderr()); i++) await Bun.sleep(50);
      expect(run.stderr()).toMatch(/dangling\.txt/);
      expect(run.stderr()).toMatch(/pipe\.txt/);
      expect((await fetch(`${run.url}/dangling.txt`)).status).toBe(404);
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
      rmSync(broken);
      rmSync(fifo);
    }
  });
});
