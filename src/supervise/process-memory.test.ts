import { describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CLOCK_TICKS_PER_SECOND,
  directoryBytes,
  parseBootTime,
  parseSmapsRollup,
  parseStat,
  parseStatus,
  readProcessCpu,
  readProcessMemory,
} from "./process-memory.ts";

// Copied from a `bun` process on the development machine (Linux 6.18), trimmed of lines the
// parsers ignore.
const STATUS = `Name:\tbun
Umask:\t0022
State:\tR (running)
Tgid:\t7354
Pid:\t7354
PPid:\t7352
FDSize:\t1024
VmPeak:\t10598160 kB
VmSize:\t 6408016 kB
VmLck:\t       0 kB
VmPin:\t       0 kB
VmHWM:\t   27204 kB
VmRSS:\t   27204 kB
RssAnon:\t    2380 kB
RssFile:\t   24824 kB
RssShmem:\t       0 kB
VmData:\t 6300100 kB
VmStk:\t     132 kB
VmExe:\t   79912 kB
VmLib:\t    2000 kB
VmPTE:\t     264 kB
VmSwap:\t       0 kB
HugetlbPages:\t       0 kB
Threads:\t1
SigQ:\t0/96363
Cpus_allowed_list:\t0-1
voluntary_ctxt_switches:\t36
`;

// A `bun` process after mapping a 32 MiB /dev/shm file privately and reading every page of it
// (same machine): the file's pages are Pss_Shmem, not Pss_Anon.
const ROLLUP = `00200000-7ffe30e0b000 ---p 00000000 00:00 0                              [rollup]
Rss:               97364 kB
Pss:               96039 kB
Pss_Dirty:         69752 kB
Pss_Anon:          36984 kB
Pss_File:          26287 kB
Pss_Shmem:         32768 kB
Shared_Clean:       1636 kB
Shared_Dirty:          0 kB
Private_Clean:     25976 kB
Private_Dirty:     69752 kB
Referenced:        97364 kB
Anonymous:         36984 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

const STAT =
  "7371 (bun) R 7369 7369 4056 0 -1 4194304 1192 0 0 0 150 0 0 0 20 0 1 0 476051 6561873920 8578 18446744073709551615 27528448 109354128 140723001070704 0 0 0 0 16781312 1610614008 0 0 0 17 0 0 0 0 0 0 109358224 109477592 408616960 140723001076260 140723001076392 140723001076392 140723001077719 0\n";

const KiB = 1024;

describe("parseStatus", () => {
  test("the memory fields of a real status file, in bytes", () => {
    expect(parseStatus(STATUS)).toEqual({
      rss: 27204 * KiB,
      rssAnon: 2380 * KiB,
      rssFile: 24824 * KiB,
      rssShmem: 0,
      peakRss: 27204 * KiB,
      virtual: 6408016 * KiB,
      swap: 0,
    });
  });

  test("fields the kernel does not report are 0 (a zombie has no Vm lines)", () => {
    expect(parseStatus("Name:\tbun\nState:\tZ (zombie)\n")).toMatchObject({ rss: 0, rssAnon: 0 });
  });

  test("the doc example", () => {
    expect(
      parseStatus("VmHWM:\t   27204 kB\nVmRSS:\t   27204 kB\nRssAnon:\t    2380 kB\n"),
    ).toEqual({
      rss: 27856896,
      rssAnon: 2437120,
      peakRss: 27856896,
      rssFile: 0,
      rssShmem: 0,
      virtual: 0,
      swap: 0,
    });
  });
});

describe("parseSmapsRollup", () => {
  test("PSS split by kind; the [rollup] header line is skipped", () => {
    expect(parseSmapsRollup(ROLLUP)).toEqual({
      rss: 97364 * KiB,
      pss: 96039 * KiB,
      pssAnon: 36984 * KiB,
      pssFile: 26287 * KiB,
      pssShmem: 32768 * KiB,
      sharedClean: 1636 * KiB,
      sharedDirty: 0,
      privateClean: 25976 * KiB,
      // The 32 MiB of tmpfs pages are "dirty" (tmpfs has no backing file) though never written.
      privateDirty: 69752 * KiB,
      swap: 0,
    });
  });

  test("a kernel before 5.3 has no Pss_Anon: 0", () => {
    expect(parseSmapsRollup("Rss:  884 kB\nPss:  385 kB\n")).toMatchObject({
      pss: 385 * KiB,
      pssAnon: 0,
    });
  });
});

describe("parseStat", () => {
  test("utime, stime and starttime of a real stat line", () => {
    expect(parseStat(STAT)).toEqual({ userTicks: 150, systemTicks: 0, startTicks: 476051 });
  });

  test("a command name with spaces and parentheses", () => {
    const odd = STAT.replace("(bun)", "(a) b (c)");
    expect(parseStat(odd)).toEqual({ userTicks: 150, systemTicks: 0, startTicks: 476051 });
  });

  test("not a stat line: an error, not NaN", () => {
    expect(() => parseStat("garbage")).toThrow("not a /proc/<pid>/stat line");
  });
});

test("parseBootTime", () => {
  expect(parseBootTime("cpu  18057 0 4164 911662\nbtime 1796237746\nprocesses 7400\n")).toBe(
    1796237746,
  );
  expect(parseBootTime("cpu  1 2 3\n")).toBeUndefined();
});

describe("directoryBytes", () => {
  test("allocated blocks below a directory, each inode once; 0 when absent", () => {
    const dir = mkdtempSync(join(tmpdir(), "memserve-du-"));
    try {
      mkdirSync(join(dir, "sub"));
      writeFileSync(join(dir, "a"), Buffer.alloc(1 << 20, 1));
      writeFileSync(join(dir, "sub", "b"), Buffer.alloc(1, 1));
      linkSync(join(dir, "a"), join(dir, "sub", "a-again"));
      writeFileSync(join(dir, "empty"), "");
      const bytes = directoryBytes(dir);
      // Rounded up to the filesystem's blocks, and the hard link is not counted again.
      expect(bytes).toBeGreaterThanOrEqual((1 << 20) + 1);
      expect(bytes).toBeLessThan((1 << 20) + 3 * 64 * KiB);
      expect(bytes % 512).toBe(0);
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(directoryBytes(join(dir, "gone"))).toBe(0);
  });
});

describe.if(process.platform === "linux")("the live process", () => {
  test("readProcessMemory", () => {
    const memory = readProcessMemory(process.pid);
    expect(memory).toBeDefined();
    if (memory === undefined) return;
    expect(memory.rss).toBeGreaterThan(10 * 2 ** 20);
    expect(memory.rssAnon + memory.rssFile + memory.rssShmem).toBe(memory.rss);
    expect(memory.peakRss).toBeGreaterThanOrEqual(memory.rss);
    expect(memory.rollup?.pss).toBeGreaterThan(0);
    expect(memory.rollup?.pss).toBeLessThanOrEqual(memory.rollup?.rss ?? 0);
  });

  test("readProcessCpu", () => {
    const cpu = readProcessCpu(process.pid);
    expect(cpu).toBeDefined();
    if (cpu === undefined) return;
    const usage = process.cpuUsage();
    // The kernel's ticks lag getrusage's microseconds by at most a tick or two per field.
    expect(cpu.cpuSeconds).toBeGreaterThan(0);
    expect(Math.abs(cpu.cpuSeconds - (usage.user + usage.system) / 1e6)).toBeLessThan(0.1);
    const started = Date.now() / 1000 - process.uptime();
    expect(Math.abs(cpu.startTimeSeconds - started)).toBeLessThan(2);
    expect(cpu.openFds).toBeGreaterThanOrEqual(3);
  });

  test("a process that is gone: undefined", () => {
    // Above the default pid_max (4194304 is the largest the kernel allows).
    expect(readProcessMemory(4_194_305)).toBeUndefined();
    expect(readProcessCpu(4_194_305)).toBeUndefined();
  });

  test("USER_HZ is what getconf says", () => {
    const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
    expect(Number(out)).toBe(CLOCK_TICKS_PER_SECOND);
  });
});
