/**
 * Operations over real processes: the admin server (/healthz, /readyz, /metrics) and the access
 * log, as an operator would use them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminUrl, startCli } from "./support/cli.ts";
import { createFixtureSite, noise } from "./support/fixture.ts";

let site: ReturnType<typeof createFixtureSite>;
beforeAll(() => {
  site = createFixtureSite({ "big.bin": noise(7 * 1024 * 1024) });
});
afterAll(() => site.cleanup());

/** Value of one sample line of the Prometheus text format, or undefined. */
function sample(metrics: string, line: string): number | undefined {
  const found = metrics.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("--admin-port", () => {
  test("healthz, readyz and metrics; readyz turns 503 while draining", async () => {
    const run = await startCli([site.root, "--port", "0", "--admin-port", "0", "--no-cache-dir"]);
    await Bun.sleep(100);
    const admin = adminUrl(run.stdout());
    expect(admin).toBeDefined();
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${admin}/readyz`)).text()).toBe("ready\n");
    await fetch(`${run.url}/css/site.css`, { headers: { "accept-encoding": "br" } });
    await fetch(`${run.url}/missing`);
    const res = await fetch(`${admin}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const metrics = await res.text();
    // One 200 (in whichever coding the fixture's css is stored) and one 404.
    const count = (status: string) =>
      [
        ...metrics.matchAll(
          new RegExp(
            `^memserve_responses_total\\{status="${status}",encoding="\\w+"\\} (\\d+)$`,
            "gm",
          ),
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    expect([count("200"), count("404")]).toEqual([1, 1]);
    expect(sample(metrics, "memserve_response_bytes_total")).toBeGreaterThan(0);
    expect(sample(metrics, "memserve_snapshot_files")).toBeGreaterThan(3);
    expect(sample(metrics, 'memserve_snapshot_bytes{encoding="identity"}')).toBeGreaterThan(7e6);
    expect(sample(metrics, "memserve_snapshot_generation")).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'memserve_build_duration_seconds_count{kind="startup"}')).toBe(1);
    // Process metrics come from /proc, one series per process (here only the server), in place of
    // prom-client's defaults, which are wrong under Bun.
    const rss = /^memserve_process_resident_memory_bytes\{role="server",pid="\d+"\} (\d+)$/m.exec(
      metrics,
    );
    expect(Number(rss?.[1])).toBeGreaterThan(10 * 2 ** 20);
    expect(metrics).toMatch(/^memserve_process_pss_bytes\{role="server",pid="\d+"\} \d+$/m);
    expect(metrics).toMatch(/^memserve_process_cpu_seconds_total\{role="server",pid="\d+"\} /m);
    expect(metrics).toContain('memserve_image_bytes{part="bodies"}');
    expect(metrics).toContain("memserve_shm_bytes");
    expect(metrics).not.toContain("memserve_process_heap_bytes");
    expect(metrics).not.toContain("memserve_nodejs_");
    expect((await fetch(`${admin}/other`)).status).toBe(404);

    // A download the client reads slowly keeps the server draining after SIGTERM.
    const socket = connect(Number(new URL(run.url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((resolve) => socket.once("data", resolve));
    socket.pause();
    run.child.kill("SIGTERM");
    await Bun.sleep(200);
    const draining = await fetch(`${admin}/readyz`);
    expect([draining.status, await draining.text()]).toEqual([503, "draining\n"]);
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    socket.resume();
    socket.on("data", () => {});
    expect(await run.exited).toBe(0);
  }, 30_000);

  test("an admin port in use is a clear error, exit 1", async () => {
    const first = await startCli([site.root, "--port", "0", "--admin-port", "0", "--no-cache-dir"]);
    await Bun.sleep(100);
    const taken = new URL(adminUrl(first.stdout()) ?? "http://x:1").port;
    try {
      const second = startCli([site.root, "--port", "0", "--admin-port", taken, "--no-cache-dir"]);
      await expect(second).rejects.toThrow(
        /cannot open admin port \d+: the address is already in use/,
      );
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  }, 30_000);
});

describe("--access-log", () => {
  const logPath = () => join(mkdtempSync(join(tmpdir(), "memserve-access-")), "access.log");

  test("combined: one line per response with its body bytes, written out by shutdown", async () => {
    const path = logPath();
    const run = await startCli([site.root, "--port", "0", "--no-cache-dir", "--access-log", path]);
    const page = await fetch(`${run.url}/index.html`, {
      headers: { "user-agent": "ops-test", referer: "http://r/" },
    });
    const length = page.headers.get("content-length");
    await fetch(`${run.url}/missing`, { method: "HEAD" });
    await fetch(`${run.url}/index.html`, {
      headers: { "if-none-match": page.headers.get("etag") ?? "" },
    });
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    const lines = readFileSync(path, "latin1").trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    // The body's bytes, as nginx's $body_bytes_sent: not head + body.
    expect(lines[0]).toMatch(
      new RegExp(
        `^127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000\\] "GET /index\\.html HTTP/1\\.1" 200 ${length} "http://r/" "ops-test"$`,
      ),
    );
    expect(lines[1]).toContain('"HEAD /missing HTTP/1.1" 404 0 ');
    expect(lines[2]).toContain('"GET /index.html HTTP/1.1" 304 0 ');
  }, 30_000);

  test("json: one object per line; an unwritable path is a clear error", async () => {
    const path = logPath();
    const run = await startCli([
      site.root,
      "--port",
      "0",
      "--no-cache-dir",
      "--access-log",
      path,
      "--access-log-format",
      "json",
    ]);
    await fetch(`${run.url}/css/site.css`);
    run.child.kill("SIGTERM");
    await run.exited;
    const entry = JSON.parse(readFileSync(path, "utf8").trim());
    expect(entry).toMatchObject({ method: "GET", target: "/css/site.css", status: 200 });
    await expect(
      startCli([
        site.root,
        "--port",
        "0",
        "--no-cache-dir",
        "--access-log",
        "/nonexistent/dir/a.log",
      ]),
    ).rejects.toThrow("cannot open access log /nonexistent/dir/a.log");
  }, 30_000);
});
