// RFC 9842 in a real browser: headless Chromium (Debian's) loads page v1, the site is redeployed
// with v2 of its bundle, and a second Chromium with the same profile gets v2 as a delta against
// the v1 it cached, and runs it. Loopback HTTP is a secure context, so no flag or certificate is
// needed; as root Chromium needs --no-sandbox. Skipped, saying why, where Chromium cannot run.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminUrl, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { rawGet } from "./support/raw-http.ts";

/** Why Chromium cannot be used here, or undefined when it can. */
function chromiumProblem(): string | undefined {
  const probe = spawnSync("chromium", [...CHROMIUM_FLAGS, "--dump-dom", "about:blank"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (probe.error !== undefined) return `chromium is not installed (${probe.error.message})`;
  if (probe.status !== 0)
    return `chromium exits ${probe.status}: ${probe.stderr.trim().split("\n").at(-1)}`;
  return undefined;
}

const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"];
const problem = chromiumProblem();
if (problem !== undefined) console.warn(`dictionary-browser: skipped: ${problem}`);

/** A script of about 100 KB that sets the title and a marker; v2 differs in a few names. */
const bundle = (version: string) =>
  `${Array.from({ length: 2500 }, (_, i) => `function step${i}(x) { return x + ${i}; }\n`).join("")}` +
  `document.title = "${version}";\n` +
  `document.addEventListener("DOMContentLoaded", () => { document.body.dataset.version = "${version}"; });\n`;
const page = (script: string) =>
  `<!doctype html><html><head><title>loading</title><script src="${script}"></script></head><body><p>app</p></body></html>`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dumpDom(profile: string, url: string): string {
  const run = spawnSync(
    "chromium",
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, "--dump-dom", url],
    { encoding: "utf8", timeout: 60_000 },
  );
  return run.stdout;
}

describe("Chromium across a deploy", () => {
  test.skipIf(problem !== undefined)(
    "the second visit gets v2 as dcb or dcz against the cached v1, and runs it",
    async () => {
      const v1 = "/assets/app.1a2b3c4d.js";
      const v2 = "/assets/app.5e6f7a8b.js";
      const site = createFixtureSite({ "index.html": page(v1), [v1.slice(1)]: bundle("v1") });
      dirs.push(join(site.root, ".."));
      const profile = mkdtempSync(join(tmpdir(), "memserve-chromium-"));
      dirs.push(profile);
      const run = await startCli(
        [
          site.root,
          "--port",
          "0",
          "--no-watch",
          "--workers",
          "1",
          "--no-cache-dir",
          "--admin-port",
          "0",
        ],
        30_000,
      );
      const port = Number(new URL(run.url).port);
      try {
        expect(dumpDom(profile, `${run.url}/`)).toContain('data-version="v1"');

        writeFileSync(join(site.root, v2.slice(1)), bundle("v2"));
        writeFileSync(join(site.root, "index.html"), page(v2));
        unlinkSync(join(site.root, v1.slice(1)));
        run.child.kill("SIGHUP");
        // The delta pass follows the reload: its responses then vary on Available-Dictionary.
        const deadline = Date.now() + 30_000;
        const hasDeltas = async () =>
          (await rawGet(port, v2, { "Accept-Encoding": "br" })).headers
            .get("vary")
            ?.includes("available-dictionary");
        while (!(await hasDeltas()) && Date.now() < deadline) await Bun.sleep(100);

        const dom = dumpDom(profile, `${run.url}/`);
        expect(dom).toContain("<title>v2</title>");
        expect(dom).toContain('data-version="v2"');
        const admin = adminUrl(run.stdout());
        const metrics = await (await fetch(`${admin}/metrics`)).text();
        const deltas = [
          ...metrics.matchAll(
            /^memserve_responses_total\{status="200",encoding="dc[bz]"\} (\d+)$/gm,
          ),
        ];
        expect(deltas.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThanOrEqual(1);
      } finally {
        run.child.kill("SIGTERM");
        await run.exited;
      }
    },
    180_000,
  );
});
