// HTTPS through the real CLI: a bad certificate stops a start; --redirect-http sends plain HTTP to
// https; SIGHUP swaps the certificate under load (workers too) with no failed request, and a bad
// new one keeps the old.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { freePort, runCli, startCli } from "./support/cli.ts";
import { createFixtureSite } from "./support/fixture.ts";
import { canMigrate, withMigration } from "./support/migrate.ts";
import { waitFor } from "./support/processes.ts";
import { rawGet } from "./support/raw-http.ts";
import { makeCertificate, markTls } from "./support/tls.ts";

const dir = mkdtempSync(join(tmpdir(), "memserve-tls-cli-"));
const site = createFixtureSite();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  site.cleanup();
});
const pair = (name: string) => {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  makeCertificate(cert, key, name);
  return { cert, key };
};
const first = pair("first.test");
const second = pair("second.test");

/** Certificate files a server is started with, holding `first`'s pair, and how to change them. */
function liveFiles(name: string) {
  const live = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const put = (from: { cert: string; key: string }) => {
    copyFileSync(from.cert, live.cert);
    copyFileSync(from.key, live.key);
  };
  put(first);
  return { ...live, put };
}

/** `memserve <site> --tls-cert … --tls-key …` on a free port, with `extra` options. */
function startHttps(files: { cert: string; key: string }, ...extra: string[]) {
  const tls = ["--tls-cert", files.cert, "--tls-key", files.key];
  return startCli([site.root, "--port", "0", "--no-watch", "--no-cache-dir", ...tls, ...extra]);
}

/** The CN of the certificate a new connection to `port` is shown. */
function subjectOf(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(String(socket.getPeerCertificate().subject?.CN));
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("--tls-cert and --tls-key", () => {
  test("an unusable certificate or a missing file stops the start (exit 1, naming it)", async () => {
    const broken = join(dir, "broken.crt");
    writeFileSync(broken, "not a certificate\n");
    const bad = await runCli([
      site.root,
      "--port",
      "0",
      "--tls-cert",
      broken,
      "--tls-key",
      first.key,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`unusable certificate ${broken}`);
    const mismatch = await runCli([
      site.root,
      "--port",
      "0",
      "--tls-cert",
      first.cert,
      "--tls-key",
      second.key,
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain("KEY_VALUES_MISMATCH");
    const missing = await runCli([
      site.root,
      "--port",
      "0",
      "--tls-cert",
      join(dir, "nope.crt"),
      "--tls-key",
      first.key,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read --tls-cert");
    const half = await runCli([site.root, "--tls-cert", first.cert]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("--tls-cert and --tls-key go together");
  });

  test("--redirect-http: 308 to the same host, path and query on https", async () => {
    const plainPort = freePort();
    const run = await startHttps(first, "--redirect-http", String(plainPort));
    try {
      expect(run.url).toStartWith("https://");
      const port = Number(new URL(run.url).port);
      const moved = await rawGet(plainPort, "/docs/?a=1", { Host: "example.test:8080" });
      expect(moved.status).toBe(308);
      expect(moved.headers.get("location")).toBe(`https://example.test:${port}/docs/?a=1`);
      // A Host that is no host name is a bad request, not a redirect to it.
      expect((await rawGet(plainPort, "/x", { Host: "a b" })).status).toBe(400);
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  });

  test("--engine fetch: SIGHUP swaps the certificate too", async () => {
    const live = liveFiles("fetch");
    const run = await startHttps(live, "--engine", "fetch");
    const port = Number(new URL(run.url).port);
    try {
      expect(await subjectOf(port)).toBe("first.test");
      live.put(second);
      run.child.kill("SIGHUP");
      await waitFor(() => run.stdout().includes("certificate reloaded"), 2500);
      expect(await subjectOf(port)).toBe("second.test");
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
  });

  // The swap opens a new listener and closes the old one: a connection still in the old one's
  // accept queue is reset unless net.ipv4.tcp_migrate_req (Linux 5.14+) hands it over, as for a
  // --reuse-port restart (test/lifecycle.test.ts). Without it this test lost 1 request in 3 of 4 runs.
  test.skipIf(!canMigrate)(
    "SIGHUP swaps the certificate under load with no failed request (tcp_migrate_req=1); a bad one keeps it",
    async () => {
      await withMigration(swapUnderLoad);
    },
    30_000,
  );
});

async function swapUnderLoad(): Promise<void> {
  const live = liveFiles("live");
  const run = await startHttps(live, "--workers", "2");
  const port = Number(new URL(run.url).port);
  const unmark = markTls(port);
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  // Four clients, each a new TLS connection per request, for at most 8 s or until told to stop.
  const deadline = Date.now() + 8000;
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop && Date.now() < deadline) {
      try {
        const response = await rawGet(port, "/css/site.css", { "Accept-Encoding": "br" });
        if (response.status === 200 && response.body.length > 0) ok++;
        else failures.push(`status ${response.status}, ${response.body.length} bytes`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  });
  try {
    expect(await subjectOf(port)).toBe("first.test");
    await Bun.sleep(500);
    live.put(second);
    run.child.kill("SIGHUP");
    let swapped = false;
    for (let i = 0; i < 50 && !swapped; i++) {
      // Every process (primary and workers) must show the new one: try several connections.
      const seen = await Promise.all(Array.from({ length: 6 }, () => subjectOf(port)));
      swapped = seen.every((cn) => cn === "second.test");
      if (!swapped) await Bun.sleep(100);
    }
    expect(swapped).toBe(true);
    expect(run.stdout()).toContain("certificate reloaded: CN=second.test");

    writeFileSync(live.cert, "garbage\n");
    run.child.kill("SIGHUP");
    await waitFor(() => run.stderr().includes("certificate not reloaded"), 2500);
    expect(run.stderr()).toContain("certificate not reloaded, the previous one stays");
    await Bun.sleep(500);
    expect(await subjectOf(port)).toBe("second.test");
  } finally {
    stop = true;
    await Promise.all(clients);
    run.child.kill("SIGTERM");
    await run.exited;
    unmark();
  }
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(100);
}
