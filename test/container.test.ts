// The Dockerfile's steps without a container engine (none can pull a base image here: no registry
// is reachable). The steps are read from the Dockerfile itself, so this test follows it: the
// single executable, `memserve build` of the site, then the runtime stage's user, environment,
// entry point, health check and stop signal, with /site and /cache moved to a temp dir and the
// ports to free ones.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chownSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./support/cli.ts";
import { rawGet } from "./support/raw-http.ts";

const REPO = join(import.meta.dir, "..");
const DOCKERFILE = readFileSync(join(REPO, "Dockerfile"), "utf8");

/** The instructions of the last stage (`FROM` to the end), joined across `\` line ends. */
function runtimeStage(text: string): { instruction: string; args: string }[] {
  const lines = text.replace(/\\\n/g, " ").split("\n");
  const instructions = lines
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const space = line.indexOf(" ");
      return {
        instruction: line.slice(0, space).toUpperCase(),
        args: line.slice(space + 1).trim(),
      };
    });
  const last = instructions.map((i) => i.instruction).lastIndexOf("FROM");
  return instructions.slice(last);
}

const stage = runtimeStage(DOCKERFILE);
const one = (name: string) => stage.find((i) => i.instruction === name)?.args ?? "";
const env = Object.fromEntries(
  [...one("ENV").matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
);
const healthcheck = JSON.parse(one("HEALTHCHECK").replace(/^.*?CMD\s+/, "")) as string[];
const entrypoint = JSON.parse(one("ENTRYPOINT")) as string[];

const work = mkdtempSync(join(tmpdir(), "memserve-container-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("Dockerfile", () => {
  test("two stages; the runtime one is non-root, with PORT, EXPOSE, HEALTHCHECK and STOPSIGNAL", () => {
    expect(DOCKERFILE.match(/^FROM /gm)).toHaveLength(2);
    expect(DOCKERFILE).toContain("RUN npm run build:bin");
    expect(DOCKERFILE).toMatch(/RUN \.\/dist\/memserve build \/site --cache-dir \/cache/);
    expect(one("USER")).toBe("10001");
    expect(env).toMatchObject({
      PORT: "8080",
      MEMSERVE_DIR: "/site",
      MEMSERVE_CACHE_DIR: "/cache",
    });
    expect(one("EXPOSE").split(" ")).toEqual([env.PORT ?? "", env.MEMSERVE_ADMIN_PORT ?? ""]);
    expect(one("STOPSIGNAL")).toBe("SIGTERM");
    expect(entrypoint).toEqual(["memserve"]);
  });

  test("its steps: build the binary and the site's cache, then serve warm as uid 10001, healthy, and stop on SIGTERM", async () => {
    // Build stage: the executable (as `npm run build:bin` makes it) and `memserve build`.
    const binary = join(REPO, "dist", "memserve");
    if (!existsSync(binary)) {
      const built = spawnSync(
        process.execPath,
        ["build", "--compile", "src/cli/run.ts", "--outfile", binary],
        { cwd: REPO },
      );
      expect(built.status).toBe(0);
    }
    const site = join(work, "site");
    const cache = join(work, "cache");
    cpSync(join(REPO, "examples", "site"), site, { recursive: true });
    const build = spawnSync(binary, ["build", site, "--cache-dir", cache], { encoding: "utf8" });
    expect(build.status).toBe(0);

    // Runtime stage: its environment, with the paths and ports moved.
    const [port, adminPort] = [freePort(), freePort()];
    const moved: Record<string, string> = {
      ...env,
      PORT: String(port),
      MEMSERVE_ADMIN_PORT: String(adminPort),
      MEMSERVE_DIR: site,
      MEMSERVE_CACHE_DIR: cache,
      MEMSERVE_HOST: "127.0.0.1",
    };
    // As root, drop to the image's user the way the container would run (util-linux setpriv).
    const asUser =
      process.getuid?.() === 0
        ? ["setpriv", "--reuid", one("USER"), "--regid", one("USER"), "--clear-groups"]
        : [];
    if (asUser.length > 0) {
      for (const path of [work, site, cache]) chownSync(path, 10001, 10001);
      spawnSync("chown", ["-R", "10001:10001", work]);
    }
    const { PATH, HOME } = process.env;
    const server = Bun.spawn([...asUser, binary, ...entrypoint.slice(1)], {
      env: { PATH: PATH ?? "/usr/bin:/bin", HOME: HOME ?? "/", ...moved },
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const reading = (async () => {
      for await (const chunk of server.stdout) out += new TextDecoder().decode(chunk);
    })();
    try {
      const deadline = Date.now() + 20_000;
      // The summary follows the URL line: a warm start is at maximum at once.
      while (!/maximum\s+in/.test(out) && Date.now() < deadline) await Bun.sleep(50);
      expect(out).toContain("warm start from the persisted image");
      expect(out).toMatch(/maximum\s+in/);
      const index = await rawGet(port, "/", { "Accept-Encoding": "br" });
      expect([index.status, index.headers.get("content-encoding")]).toEqual([200, "br"]);
      if (asUser.length > 0) {
        const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
        expect(status).toMatch(/^Uid:\s+10001\s/m);
      }
      // HEALTHCHECK, with the admin port moved.
      const probe = healthcheck.map((part) => part.replace("/9090", `/${adminPort}`));
      const healthy = spawnSync(probe[0] as string, probe.slice(1), { encoding: "utf8" });
      expect(healthy.status).toBe(0);
    } finally {
      server.kill(one("STOPSIGNAL") as NodeJS.Signals);
      expect(await server.exited).toBe(0);
      await reading;
    }
  }, 60_000);
});
