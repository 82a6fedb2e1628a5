import { describe, expect, test } from "bun:test";
import type { Asset, Snapshot } from "../snapshot/types.ts";
import { type LocateOptions, locate } from "./locate.ts";

const PATHS = [
  "/index.html",
  "/about.html",
  "/docs/index.html",
  "/docs/intro.html",
  "/a b.html",
  "/app.js",
];
const snapshot = {
  assets: new Map(PATHS.map((path) => [path, { path } as Asset])),
} as unknown as Snapshot;

/** The asset's path, or `-> location`, or undefined. */
const where = (path: string, options: Partial<LocateOptions> = {}) => {
  const located = locate(snapshot, path, {
    cleanUrls: false,
    trailingSlash: undefined,
    ...options,
  });
  if (located === undefined) return undefined;
  return located.kind === "asset" ? located.asset.path : `-> ${located.location}`;
};

describe("locate: a path to its file or its canonical URL", () => {
  test("default: files as named, a directory's index, /dir -> ./dir/", () => {
    expect(where("/")).toBe("/index.html");
    expect(where("/about.html")).toBe("/about.html");
    expect(where("/docs/")).toBe("/docs/index.html");
    expect(where("/docs")).toBe("-> ./docs/");
    expect(where("/about")).toBeUndefined();
    expect(where("/about/")).toBeUndefined();
  });

  test("--clean-urls: /about serves about.html; /about.html and /x/index.html redirect", () => {
    const clean = { cleanUrls: true };
    expect(where("/about", clean)).toBe("/about.html");
    expect(where("/about.html", clean)).toBe("-> ./about");
    expect(where("/docs/intro.html", clean)).toBe("-> ./intro");
    expect(where("/docs/index.html", clean)).toBe("-> ./");
    expect(where("/index.html", clean)).toBe("-> ./");
    expect(where("/a b.html", clean)).toBe("-> ./a%20b");
    expect(where("/about/", clean)).toBe("-> ../about");
    expect(where("/app.js", clean)).toBe("/app.js");
  });

  test("--trailing-slash always: pages end with /", () => {
    const always = { cleanUrls: true, trailingSlash: "always" as const };
    expect(where("/about", always)).toBe("-> ./about/");
    expect(where("/about/", always)).toBe("/about.html");
    expect(where("/about.html", always)).toBe("-> ./about/");
    expect(where("/docs", always)).toBe("-> ./docs/");
    expect(where("/docs/", always)).toBe("/docs/index.html");
    expect(where("/app.js", always)).toBe("/app.js");
  });

  test("--trailing-slash never: pages do not end with /", () => {
    const never = { cleanUrls: true, trailingSlash: "never" as const };
    expect(where("/docs/", never)).toBe("-> ../docs");
    expect(where("/docs", never)).toBe("/docs/index.html");
    expect(where("/docs/index.html", never)).toBe("-> ../docs");
    expect(where("/about/", never)).toBe("-> ../about");
    expect(where("/", never)).toBe("/index.html");
    expect(where("/index.html", never)).toBe("-> ./");
    expect(where("/docs", { trailingSlash: "never" })).toBe("/docs/index.html");
  });
});
