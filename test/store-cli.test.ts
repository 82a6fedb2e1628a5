import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

let site: ReturnType<typeof createFixtureSite>;
let cacheDir: string;

beforeAll(() => {
  site = createFixtureSite();
  cacheDir = join(site.root, "..", "cache");
});
afterAll(() => site.cleanup());

function entries(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => statSync(join(dir, name)).isFile() && !name.includes(".tmp-"));
}

async function brSize(args: string[]): Promise<number> {
  const run = await startCli([site.root, "--port", "0", ...args]);
  try {
    const res = await rawGet(Number(new URL(run.url).port), "/assets/app.3f9a1c2b.js", {
      "accept-encoding": "br",
    });
    expect(res.headers.get("content-encoding")).toBe("br");
    return res.body.length;
  } finally {
    run.child.kill("SIGTERM");
    await run.exited;
  }
}

describe("persistent store through the CLI", () => {
  test("build fills the store; a start with fast compression is then at maximum at once", async () => {
    const built = await runCli(["build", site.root, "--cache-dir", cacheDir]);
    expect(built.code).toBe(0);
    expect(built.stdout).toContain(`into ${cacheDir}`);
    expect(entries(cacheDir).length).toBeGreaterThan(0);
    const max = await brSize(["--compression", "max", "--no-cache-dir"]);
    const fast = await brSize(["--compression", "fast", "--no-cache-dir"]);
    const warm = await brSize(["--compression", "fast", "--cache-dir", cacheDir]);
    expect(max).toBeLessThan(fast);
    expect(warm).toBe(max);
  }, 60_000);

  test("prune removes the entries of a file that changed, and keeps the others", async () => {
    await runCli(["build", site.root, "--cache-dir", cacheDir]);
    const before = entries(cacheDir).length;
    writeFileSync(join(site.root, "css", "site.css"), "body { color: red; }\n".repeat(500));
    const pruned = await runCli(["prune", site.root, "--cache-dir", cacheDir]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/pruned .*: 3 entries removed/);
    expect(entries(cacheDir).length).toBe(before - 3);
  }, 60_000);

  test("a cache dir that cannot be created is a warning; serving goes on without it", async () => {
    const blocker = join(site.root, "..", "not-a-dir");
    writeFileSync(blocker, "file");
    const run = await startCli([site.root, "--port", "0", "--cache-dir", join(blocker, "cache")]);
    try {
      expect((await fetch(`${run.url}/css/site.css`)).status).toBe(200);
      expect(run.stderr()).toMatch(/cache dir .* not writable/);
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
      rmSync(blocker);
    }
  });

  test("`memserve build` alone, with no directory named build, says what is missing", async () => {
    const { code, stderr } = await runCli(["build", "--port", "0", "--no-cache-dir"], 5000);
    // No ./build here (with one, it would be the directory to serve).
    expect(code).toBe(2);
    expect(stderr).toContain("missing <dir>: memserve build <dir>");
  });
});
