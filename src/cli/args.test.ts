import { describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
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
  test("defaults: 127.0.0.1:8080, a worker per CPU, max-age 3600", () => {
    const o = serve(["site"]);
    expect([o.root, o.host, o.port, o.workers, o.maxAge, o.spa, o.cors]).toEqual([
      "site",
      "127.0.0.1",
      8080,
      availableParallelism(),
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
    [["site", "--workers", "257"], "--workers"],
    [["site", "--host", ""], "--host"],
    [["site", "--max-ranges", "0"], "--max-ranges"],
    [["site", "--engine", "h2"], "--engine"],
    [["site", "--compression", "best"], "--compression"],
    [["site", "--sendfile", "yes"], "--sendfile"],
    [["site", "--sendfile", "on", "--engine", "fetch"], "fetch engine"],
    [["site", "--sendfile-min", "0"], "--sendfile-min"],
    [["site", "--unknown"], "unknown"],
    [["a", "b"], "exactly one"],
    [[], "missing <dir>"],
    [["site", "--cache-control", "a\u0001b"], "control characters"],
  ])("%j is refused with a message naming %s", (argv, fragment) => {
    expect(errorOf(argv as string[])).toContain(fragment as string);
  });

  test("--sendfile: auto for 64 up to 192 KiB and from 2 MiB by default; 0 is no limit / never", () => {
    const o = serve(["site"]);
    expect([o.sendfile, o.sendfileMin, o.sendfileMax, o.sendfileLarge]).toEqual([
      "auto",
      65536,
      196608,
      2097152,
    ]);
    const all = serve(["site", "--sendfile", "on", "--sendfile-min", "1", "--sendfile-max", "0"]);
    expect([all.sendfile, all.sendfileMin, all.sendfileMax]).toEqual(["on", 1, Infinity]);
    expect(serve(["site", "--sendfile-large", "0"]).sendfileLarge).toBe(Infinity);
    expect(errorOf(["site", "--sendfile-large", "-1"])).toContain("--sendfile-large");
  });

  test("--clean-urls and --trailing-slash always|never; anything else is refused", () => {
    const o = serve(["site"]);
    expect([o.cleanUrls, o.trailingSlash]).toEqual([false, undefined]);
    const c = serve(["site", "--clean-urls", "--trailing-slash", "never"]);
    expect([c.cleanUrls, c.trailingSlash]).toEqual([true, "never"]);
    expect(serve(["site", "--trailing-slash", "always"]).trailingSlash).toBe("always");
    expect(errorOf(["site", "--trailing-slash", "sometimes"])).toContain("--trailing-slash");
  });

  test("TLS: --tls-cert and --tls-key together, --tls-ca and --redirect-http only with them", () => {
    expect(serve(["site"]).tls).toBeUndefined();
    const t = serve(["site", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--redirect-http", "80"]);
    expect([t.tls, t.redirectHttp]).toEqual([{ cert: "c.pem", key: "k.pem" }, 80]);
    expect(serve(["site", "--tls-cert", "c", "--tls-key", "k", "--tls-ca", "a"]).tls?.ca).toBe("a");
    expect(errorOf(["site", "--tls-key", "k.pem"])).toContain("go together");
    expect(errorOf(["site", "--redirect-http", "80"])).toContain("--redirect-http needs");
    expect(errorOf(["site", "--tls-ca", "a"])).toContain("--tls-ca needs");
  });

  test("--http2 needs the fetch engine and TLS; --admin-host takes an address", () => {
    expect(errorOf(["site", "--http2"])).toContain("--http2 needs");
    const h = serve(["site", "--engine", "fetch", "--http2", "--tls-cert", "c", "--tls-key", "k"]);
    expect(h.http2).toBe(true);
    expect(serve(["site"]).adminHost).toBe("127.0.0.1");
    expect(serve(["site", "--admin-host", "0.0.0.0"]).adminHost).toBe("0.0.0.0");
    expect(errorOf(["site", "--admin-host", "a b"])).toContain("--admin-host: not an address");
  });

  test("watching is the default; --no-watch turns it off; --watch still parses", () => {
    expect(serve(["site"]).watch).toBe(true);
    expect(serve(["site", "--no-watch"]).watch).toBe(false);
    expect(serve(["site", "--watch"]).watch).toBe(true);
  });

  test("build or prune without a directory says what is missing", () => {
    expect(errorOf(["prune"])).toBe("missing <dir>: memserve prune <dir>");
    expect(errorOf(["build"])).toBe("missing <dir>: memserve build <dir>");
    expect(parseCommandLine(["prune", "site"]).kind).toBe("prune");
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

describe("configuration by environment (MEMSERVE_*)", () => {
  const fromEnv = (env: Record<string, string>, argv: string[] = ["site"]) => {
    const parsed = parseCommandLine(argv, env);
    if (parsed.kind !== "serve") throw new Error(JSON.stringify(parsed));
    return parsed.options;
  };

  test("every option has a variable; the command line wins", () => {
    const env = {
      MEMSERVE_PORT: "3000",
      MEMSERVE_SPA: "1",
      MEMSERVE_MAX_AGE: "60",
      MEMSERVE_ADMIN_PORT: "9100",
      MEMSERVE_ACCESS_LOG: "-",
      MEMSERVE_NO_CACHE_DIR: "true",
    };
    const o = fromEnv(env);
    expect([o.port, o.spa, o.maxAge, o.adminPort, o.accessLog, o.cacheDir]).toEqual([
      3000,
      true,
      60,
      9100,
      "-",
      undefined,
    ]);
    expect(fromEnv(env, ["site", "--port", "4000"]).port).toBe(4000);
  });

  test("MEMSERVE_HEADER takes one header per line, added to --header ones", () => {
    const o = fromEnv({ MEMSERVE_HEADER: "X-A: 1\nX-B: 2" }, ["site", "--header", "X-C: 3"]);
    expect(o.headers).toEqual({ "x-a": "1", "x-b": "2", "x-c": "3" });
  });

  test("MEMSERVE_DIR is the directory when none is given", () => {
    expect(fromEnv({ MEMSERVE_DIR: "/srv/site" }, []).root).toBe("/srv/site");
    expect(fromEnv({ MEMSERVE_DIR: "/srv/site" }, ["other"]).root).toBe("other");
  });

  test("PORT (cloud platforms) after --port and MEMSERVE_PORT", () => {
    expect(fromEnv({ PORT: "5000" }).port).toBe(5000);
    expect(fromEnv({ PORT: "5000", MEMSERVE_PORT: "3000" }).port).toBe(3000);
    expect(fromEnv({ PORT: "5000" }, ["site", "--port", "4000"]).port).toBe(4000);
    const parsed = parseCommandLine(["site"], { PORT: "web" });
    expect(parsed.kind === "error" ? parsed.message : "").toBe(
      'PORT (environment): expected a port number, got "web"',
    );
  });

  test("MEMSERVE_WATCH=0 turns watching off; a command line's --watch wins", () => {
    expect(fromEnv({ MEMSERVE_WATCH: "0" }).watch).toBe(false);
    expect(fromEnv({ MEMSERVE_NO_WATCH: "1" }).watch).toBe(false);
    expect(fromEnv({ MEMSERVE_WATCH: "0" }, ["site", "--watch"]).watch).toBe(true);
  });

  test("a bad value names its variable", () => {
    const error = (env: Record<string, string>) => {
      const parsed = parseCommandLine(["site"], env);
      return parsed.kind === "error" ? parsed.message : "";
    };
    expect(error({ MEMSERVE_PORT: "http" })).toContain("MEMSERVE_PORT (environment)");
    expect(error({ MEMSERVE_SPA: "maybe" })).toContain("MEMSERVE_SPA");
    expect(error({ MEMSERVE_HEADER: "no colon" })).toContain("MEMSERVE_HEADER (environment)");
  });
});
