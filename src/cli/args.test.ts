import { describe, expect, test } from "bun:test";
import { parseCommandLine, parseHeaderOption } from "./args.ts";

const serve = (argv: string[]) => {
  const parsed = parseCommandLine(argv);
  if (parsed.kind !== "serve") throw new Error(`expected serve, got ${JSON.stringify(parsed)}`);
  return parsed.options;
};
const errorOf = (argv: string[]) => {
  const parsed = parseCommandLine(argv);
  return parsed.kind === "error" ? parsed.message : "";
};

describe("parseCommandLine", () => {
  test("defaults: 127.0.0.1:8080, one worker, max-age 3600", () => {
    const o = serve(["site"]);
    expect([o.root, o.host, o.port, o.workers, o.maxAge, o.spa, o.cors]).toEqual([
      "site",
      "127.0.0.1",
      8080,
      1,
      3600,
      false,
      false,
    ]);
    expect(o.cacheControl).toBeUndefined();
    expect(o.shutdownTimeoutMs).toBe(10_000);
  });

  test("short and long flags", () => {
    const o = serve(["-p", "0", "-H", "::1", "-s", "site", "--max-age", "60", "--max-ranges", "4"]);
    expect([o.port, o.host, o.spa, o.maxAge, o.maxRanges]).toEqual([0, "::1", true, 60, 4]);
  });

  test("a bracketed IPv6 host is accepted", () => {
    expect(serve(["site", "--host", "[::1]"]).host).toBe("::1");
  });

  test("--cors adds the CORS response headers", () => {
    const o = serve(["site", "--cors"]);
    expect(o.cors).toBe(true);
    expect(o.headers["access-control-allow-origin"]).toBe("*");
  });

  test("--header is repeatable; a repeated name is combined (RFC 9110 §5.3)", () => {
    const o = serve(["site", "--header", "X-A: 1", "--header", "x-a: 2", "--header", "X-B:three"]);
    expect(o.headers).toEqual({ "x-a": "1, 2", "x-b": "three" });
  });

  test.each([
    [["site", "--port", "65536"], "--port"],
    [["site", "--port", "-1"], "--port"],
    [["site", "--port", "80x"], "--port"],
    [["site", "--workers", "0"], "--workers"],
    [["site", "--workers", "4"], "only 1 worker"],
    [["site", "--host", ""], "--host"],
    [["site", "--max-ranges", "0"], "--max-ranges"],
    [["site", "--engine", "h2"], "--engine"],
    [["site", "--compression", "best"], "--compression"],
    [["site", "--unknown"], "unknown"],
    [["a", "b"], "exactly one"],
    [[], "missing <dir>"],
    [["site", "--cache-control", "a\u0001b"], "control characters"],
  ])("%j is refused with a message naming %s", (argv, fragment) => {
    expect(errorOf(argv as string[])).toContain(fragment as string);
  });

  test("--help and --version win over everything else", () => {
    expect(parseCommandLine(["--help", "--port", "x"]).kind).toBe("help");
    expect(parseCommandLine(["-v"]).kind).toBe("version");
  });
});

describe("parseHeaderOption", () => {
  test("name is lower-cased and value trimmed", () => {
    expect(parseHeaderOption("X-Frame-Options:  DENY ")).toEqual(["x-frame-options", "DENY"]);
  });

  test.each(["NoColon", ": empty name", "Bad Name: x", "X-A: line\r\nInjected: 1"])(
    "RFC 9110 §5.1/§5.5: %j is refused",
    (line) => {
      expect(() => parseHeaderOption(line)).toThrow();
    },
  );

  test.each(["Content-Length: 1", "content-encoding: br", "ETag: x", "Transfer-Encoding: chunked"])(
    "framing and representation headers cannot be overridden: %j",
    (line) => {
      expect(() => parseHeaderOption(line)).toThrow(/cannot be set/);
    },
  );
});
