/**
 * The CLI under `strace -f`: bodies in the sendfile bands leave by sendfile(2), and once the site
 * is served no process opens a file of it (requests are answered from the image). Skipped
 * where strace is missing or may not trace (no ptrace in a container).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliRun, MEMSERVE, startCli } from "./support/cli.ts";
import { createFixtureSite, noise } from "./support/fixture.ts";
import { childrenOf, waitFor } from "./support/processes.ts";

const CLIP = noise(3 * 1024 * 1024, 11); // the large band (2 MiB and more)
const THUMB = noise(128 * 1024, 12); // the first band (64 up to 192 KiB)

function canTrace(): boolean {
  if (Bun.which("strace") === null) return false;
  return Bun.spawnSync(["strace", "-qq", "-o", "/dev/null", "true"]).exitCode === 0;
}

interface Call {
  readonly at: number;
  readonly name: string;
  readonly text: string;
}

/** `strace -f -ttt -o` lines: `<pid> <epoch seconds> <name>(<args>) = <result>` (or `<... name resumed>`). */
function callsIn(trace: string): Call[] {
  return trace.split("\n").flatMap((line) => {
    const match = /^\d+\s+(\d+\.\d+)\s+(?:<\.\.\. )?(\w+)/.exec(line);
    return match ? [{ at: Number(match[1]), name: match[2] as string, text: line }] : [];
  });
}

describe.if(canTrace())("sendfile under strace", () => {
  let site: ReturnType<typeof createFixtureSite>;
  let traceDir: string;
  let run: CliRun;

  beforeAll(async () => {
    site = createFixtureSite({ "video/clip.mp4": CLIP, "img/thumb.jpg": THUMB });
    traceDir = mkdtempSync(join(tmpdir(), "memserve-strace-"));
    const trace = ["strace", "-f", "-ttt", "-qq", "-e", "trace=sendfile,openat,open"];
    run = await startCli(
      [site.root, "--port", "0", "--no-watch", "--no-cache-dir", "--sendfile", "on"],
      60_000,
      { command: [...trace, "-o", join(traceDir, "trace"), ...MEMSERVE] },
    );
  }, 90_000);
  /** Stops memserve, not strace (which would detach and leave it running); strace then exits. */
  const stop = async () => {
    for (const pid of childrenOf(run.child.pid as number)) process.kill(pid, "SIGTERM");
    await run.exited;
  };
  afterAll(async () => {
    if (run !== undefined) await stop();
    site?.cleanup();
    rmSync(traceDir, { recursive: true, force: true });
  });

  test("large and mid-size bodies go by sendfile; once served, no process opens a site file", async () => {
    // At maximum compression the builder has read the site and exited: from here on only
    // requests run.
    await waitFor(() => run.stdout().includes("maximum compression in"), 30_000);
    expect(run.stdout()).toContain("maximum compression in");
    expect(run.stdout()).toContain(
      "bodies of 65536 up to 196608 bytes, and of 2097152 bytes or more, are sent with sendfile(2)",
    );
    const served = Date.now() / 1000;
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
    await stop();

    const calls = callsIn(readFileSync(join(traceDir, "trace"), "utf8")).filter(
      (call) => call.at > served,
    );
    expect(calls.filter((call) => call.name === "sendfile").length).toBeGreaterThan(0);
    const siteOpens = calls.filter(
      (call) => call.name.startsWith("open") && call.text.includes(site.root),
    );
    expect(siteOpens.map((call) => call.text)).toEqual([]);
  }, 60_000);
});
