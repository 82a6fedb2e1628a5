import { describe, expect, test } from "bun:test";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AccessLog,
  type AccessLogEntry,
  clfTime,
  escapeField,
  formatCombined,
  formatJson,
} from "./access-log.ts";

const entry: AccessLogEntry = {
  remote: "127.0.0.1",
  request: { method: "GET", target: "/a.css?v=1", http10: false },
  status: 200,
  bytes: 1234,
  referer: null,
  userAgent: 'curl/8.5 "quoted"',
};
const MS = Date.UTC(2026, 10, 27, 6, 29, 3);

describe("access log formats", () => {
  test("Common Log Format time, UTC", () => {
    expect(clfTime(MS)).toBe("27/Nov/2026:06:29:03 +0000");
  });

  test("combined: one line, quotes and control bytes escaped as \\xHH", () => {
    expect(formatCombined(entry, clfTime(MS))).toBe(
      '127.0.0.1 - - [27/Nov/2026:06:29:03 +0000] "GET /a.css?v=1 HTTP/1.1" 200 1234 "-" "curl/8.5 \\x22quoted\\x22"\n',
    );
    expect(escapeField("a\nb\\c\u00e9")).toBe("a\\x0ab\\x5cc\\xe9");
  });

  test("a request refused before its head parsed is logged as -", () => {
    const line = formatCombined({ ...entry, request: undefined, status: 431 }, "t");
    expect(line).toContain('"-" 431');
  });

  test("json: one object per line", () => {
    const parsed = JSON.parse(formatJson(entry, MS));
    expect(parsed).toMatchObject({
      method: "GET",
      target: "/a.css?v=1",
      status: 200,
      protocol: "HTTP/1.1",
    });
    expect(parsed.time).toBe("2026-11-27T06:29:03.000Z");
  });
});

describe("AccessLog", () => {
  test("buffers lines and writes them all, in order, by close", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "memserve-log-")), "access.log");
    const log = new AccessLog(openSync(path, "a"), "combined");
    for (let i = 0; i < 2000; i++) log.log({ ...entry, bytes: i });
    await log.close();
    const lines = readFileSync(path, "latin1").trimEnd().split("\n");
    expect(lines).toHaveLength(2000);
    expect(lines.map((line) => Number(line.split(" ")[9]))).toEqual(lines.map((_, i) => i));
  });
});
