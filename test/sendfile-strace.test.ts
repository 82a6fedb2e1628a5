/**
 * The CLI under `strace -f`: bodies in the sendfile bands leave by sendfile(2), and the process
 * that serves them never opens a file of the site (requests are answered from the image). Skipped
 * where strace is missing or may not trace (no ptrace in a container).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliRun, MEMSERVE, startCli } from "./support/cli.ts";
import { createFixtureSite, noise } from "./support/fixture.ts";

const CLIP = noise(3 * 1024 * 1024, 11); // the large band (2 MiB and more)
const THUMB = noise(128 * 1024, 12); // the first band (64 up to 192 KiB)

function canTrace(): boolean {
  if (Bun.which("strace") === null) return false;
  return Bun.spawnSync(["strace", "-qq", "-o", "/dev/null", "true"]).exitCode === 0;
}

interface Call {
  readonly pid: number;
  readonly name: string;
  readonly text: string;
}

/** `strace -f -o` lines: `<pid> <name>(<args>) = <result>`; unfinished/resumed halves included. */
function callsIn(trace: string): Call[] {
  return trace.split("\n").flatMap((line) => {
    const match = /^(\d+)\s+(?:<\.\.\. )?(\w+)/.exec(line);
    return match ? [{ pid: Number(match[1]), name: match[2] as string, text: line }] : [];
  });
}

describe.if(canTrace())("sendfile under strace", () => {
  let site: ReturnType<typeof createFixtureSite>;
  let traceDir: string;
  let run: CliRun;

  beforeAll(async () => {
    site = createFixtureSite({ "video/clip.mp4": CLIP, "img/thumb.jpg": THUMB });
    traceDir = mkdtempSync(join(tmpdir(), "memserve-strace-"));
    const trace = ["strace", "-f", "-qq", "-e", "trace=sendfile,openat,open"];
    run = await startCli(
      [site.root, "--port", "0", "--no-watch", "--no-cache-dir", "--sendfile", "on"],
      60_000,
      { command: [...trace, "-o", join(traceDir, "trace"), ...MEMSERVE] },
    );
  }, 90_000);
  afterAll(async () => {
    run?.child.kill("SIGTERM");
    await run?.exited;
    site?.cleanup();
    rmSync(traceDir, { recursive: true, force: true });
  });

  test("large and mid-size bodies go by sendfile; the serving process opens no site file", async () => {
    for (const [path, bytes] of [
      ["/video/clip.mp4", CLIP],
      ["/img/thumb.jpg", THUMB],
    ] as const) {
      const res = await fetch(`${run.url}${path}`, { headers: { "accept-encoding": "identity" } });
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    }
    const range = await fetch(`${run.url}/video/clip.mp4`, {
      headers: { range: "bytes=0-2200000" },
    });
    expect(range.status).toBe(206);
    expect((await range.arrayBuffer()).byteLength).toBe(2_200_001);
    run.child.kill("SIGTERM");
    await run.exited;

    const calls = callsIn(readFileSync(join(traceDir, "trace"), "utf8"));
    const sendfiles = calls.filter((call) => call.name === "sendfile");
    expect(sendfiles.length).toBeGreaterThan(0);
    const servers = new Set(sendfiles.map((call) => call.pid));
    const siteOpens = calls.filter(
      (call) =>
        servers.has(call.pid) && call.name.startsWith("open") && call.text.includes(site.root),
    );
    expect(siteOpens.map((call) => call.text)).toEqual([]);
  }, 60_000);
});
