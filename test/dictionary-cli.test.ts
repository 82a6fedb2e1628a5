// A deploy through the real CLI (RFC 9842): v1 of a bundle is served, v2 replaces it and the
// server reloads; a client holding v1 gets v2 as a delta, and so does one after a restart, since
// the cache dir remembers v1. The metrics count the delta responses.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeDelta, dictionaryHash, formatHash } from "../src/dictionary/wire.ts";
import { adminUrl, type CliRun, runCli, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

const V1 = Array.from(
  { length: 2500 },
  (_, i) => `export const value${i} = ${i * 31} + "v";\n`,
).join("");
const V2 = V1.replace("value10 =", "renamed10 =").replace("value2000 =", "other2000 =");
const v1Bytes = new TextEncoder().encode(V1);
const dictionary = {
  "Accept-Encoding": "gzip, br, zstd, dcb, dcz",
  "Available-Dictionary": formatHash(dictionaryHash(v1Bytes)),
};

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const portOf = (run: CliRun) => Number(new URL(run.url).port);

/** Polls until `path` is answered with a delta (the pass runs after the build is served). */
async function deltaOf(run: CliRun, path: string): Promise<Awaited<ReturnType<typeof rawGet>>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await rawGet(portOf(run), path, dictionary);
    const coding = response.headers.get("content-encoding") ?? "";
    if (coding.startsWith("dc") || Date.now() > deadline) return response;
    await Bun.sleep(100);
  }
}

async function stop(run: CliRun): Promise<void> {
  run.child.kill("SIGTERM");
  await run.exited;
}

describe("dictionary deltas across a deploy", () => {
  test("after a reload and after a restart from the cache dir; counted in the metrics", async () => {
    const site = createFixtureSite({ "assets/bundle.0a1b2c3d.js": V1 });
    dirs.push(join(site.root, ".."));
    const cacheDir = mkdtempSync(join(tmpdir(), "memserve-dict-cache-"));
    dirs.push(cacheDir);
    const args = [
      site.root,
      "--port",
      "0",
      "--no-watch",
      "--workers",
      "1",
      "--cache-dir",
      cacheDir,
    ];
    let run = await startCli([...args, "--admin-port", "0"], 30_000);
    try {
      const first = await rawGet(portOf(run), "/assets/bundle.0a1b2c3d.js", {
        "Accept-Encoding": "br",
      });
      expect(first.headers.get("use-as-dictionary")).toBe(
        'match="/assets/bundle.*.js", match-dest=("script")',
      );

      // The deploy: v1 is gone from the site, v2 takes its place.
      unlinkSync(join(site.root, "assets/bundle.0a1b2c3d.js"));
      writeFileSync(join(site.root, "assets/bundle.9f8e7d6c.js"), V2);
      run.child.kill("SIGHUP");
      const delta = await deltaOf(run, "/assets/bundle.9f8e7d6c.js");
      const coding = delta.headers.get("content-encoding") as "dcb" | "dcz";
      expect(["dcb", "dcz"]).toContain(coding);
      expect(new TextDecoder().decode(decodeDelta(coding, v1Bytes, delta.body))).toBe(V2);

      const admin = adminUrl(run.stdout());
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`^memserve_responses_total\\{status="200",encoding="${coding}"\\} [1-9]`, "m"),
      );
    } finally {
      await stop(run);
    }

    // `memserve prune` keeps the deltas of the files there are (and v1 in the history).
    const deltaEntries = () =>
      [...new Bun.Glob("*/*.dc[bz]-d*").scanSync({ cwd: cacheDir })].length;
    expect(deltaEntries()).toBe(2);
    const pruned = await runCli(["prune", site.root, "--cache-dir", cacheDir]);
    expect(pruned.code).toBe(0);
    expect(deltaEntries()).toBe(2);

    // A restart: v1 is in no image any more, only in the cache dir's history.
    run = await startCli(args, 30_000);
    try {
      const delta = await deltaOf(run, "/assets/bundle.9f8e7d6c.js");
      const coding = delta.headers.get("content-encoding") as "dcb" | "dcz";
      expect(["dcb", "dcz"]).toContain(coding);
      expect(new TextDecoder().decode(decodeDelta(coding, v1Bytes, delta.body))).toBe(V2);
    } finally {
      await stop(run);
    }
  }, 90_000);

  test("--dictionary-versions 0: no announcement, no deltas", async () => {
    const site = createFixtureSite({
      "assets/bundle.0a1b2c3d.js": V1,
      "assets/bundle.9f8e7d6c.js": V2,
    });
    dirs.push(join(site.root, ".."));
    const run = await startCli(
      [
        site.root,
        "--port",
        "0",
        "--no-watch",
        "--no-cache-dir",
        "--compression",
        "max",
        "--dictionary-versions",
        "0",
      ],
      30_000,
    );
    try {
      const response = await rawGet(portOf(run), "/assets/bundle.9f8e7d6c.js", dictionary);
      expect(response.headers.get("use-as-dictionary")).toBeUndefined();
      expect(response.headers.get("content-encoding")).not.toMatch(/^dc/);
      expect(response.headers.get("vary")).toBe("accept-encoding");
    } finally {
      await stop(run);
    }
  }, 60_000);
});
