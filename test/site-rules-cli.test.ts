/**
 * `_headers` and `_redirects` through the real CLI: a rule that does not parse stops a start
 * (exit 1, naming file:line) and leaves a running server on its previous version at a reload;
 * an edited rule file is picked up by a reload even when no served file changed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { waitFor } from "./support/processes.ts";
import { rawGet } from "./support/raw-http.ts";

const sites: ReturnType<typeof createFixtureSite>[] = [];
const siteWith = (files: Record<string, string>) => {
  const site = createFixtureSite(files);
  sites.push(site);
  return site;
};
afterAll(() => {
  for (const site of sites) site.cleanup();
});

describe("rule files at startup", () => {
  test.each([
    [
      "_redirects",
      "/ok /fine\n/only-a-source\n",
      /_redirects:2: a rule needs a source and a target/,
    ],
    ["_redirects", "/a /b 418\n", /_redirects:1: unknown status "418"/],
    ["_headers", "/*\n  X-A: 1\n  Content-Length: 5\n", /_headers:3: content-length cannot be set/],
    ["_headers", "  X-A: 1\n", /_headers:1: a header line before any URL pattern/],
  ])("a bad %s: exit 1 naming file:line", async (file, text, message) => {
    const site = siteWith({ [file]: text });
    const { code, stderr } = await runCli([site.root, "--port", "0", "--no-cache-dir"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).toContain(join(site.root, file));
  });
});

describe("rule files at reload", () => {
  test("an edited file applies with no served file changed; a broken one keeps the last good rules", async () => {
    const site = siteWith({ _headers: "/*\n  X-Version: 1\n", _redirects: "/go /docs/ 302\n" });
    const run = await startCli([site.root, "--port", "0", "--no-cache-dir"]);
    const port = Number(new URL(run.url).port);
    const until = async (ok: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await ok()) && Date.now() < deadline) await Bun.sleep(50);
      return ok();
    };
    try {
      expect((await rawGet(port, "/css/site.css")).headers.get("x-version")).toBe("1");
      expect((await rawGet(port, "/go")).headers.get("location")).toBe("/docs/");

      writeFileSync(join(site.root, "_headers"), "/*\n  X-Version: 2\n");
      writeFileSync(join(site.root, "_redirects"), "/go /elsewhere 302\n");
      run.child.kill("SIGHUP");
      const version = async () => (await rawGet(port, "/css/site.css")).headers.get("x-version");
      expect(await until(async () => (await version()) === "2")).toBe(true);
      expect((await rawGet(port, "/go")).headers.get("location")).toBe("/elsewhere");
      expect(run.stdout()).toContain("_redirects changed");

      writeFileSync(join(site.root, "_redirects"), "/go\n");
      run.child.kill("SIGHUP");
      expect(await until(async () => /_redirects:1: a rule needs/.test(run.stderr()))).toBe(true);
      expect((await rawGet(port, "/go")).headers.get("location")).toBe("/elsewhere");
      expect(await version()).toBe("2");
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  }, 40_000);

  test("a file served as immutable that changes under its name is warned about", async () => {
    const site = siteWith({ "assets/index-BXmT3kLp.js": "console.log(1);\n" });
    const run = await startCli([site.root, "--port", "0", "--no-cache-dir"]);
    const port = Number(new URL(run.url).port);
    try {
      const first = await rawGet(port, "/assets/index-BXmT3kLp.js");
      expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      // The same bytes written again (a copy, a container layer) are no change to warn about.
      writeFileSync(join(site.root, "assets/index-BXmT3kLp.js"), "console.log(1);\n");
      run.child.kill("SIGHUP");
      await waitFor(() => /reload: no changes|reloaded/.test(run.stdout()), 5000);
      expect(run.stderr()).not.toContain("served as immutable");
      writeFileSync(join(site.root, "assets/index-BXmT3kLp.js"), "console.log(2);\n");
      run.child.kill("SIGHUP");
      await waitFor(() => run.stderr().includes("served as immutable"), 10_000);
      expect(run.stderr()).toContain(
        "assets/index-BXmT3kLp.js changed, but it is served as immutable",
      );
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  }, 30_000);
});
