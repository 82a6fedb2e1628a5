import { describe, expect, test } from "bun:test";
import type { RuleError } from "./pattern.ts";
import { parseRedirects, RedirectTable } from "./redirects.ts";

const table = (text: string) => new RedirectTable(parseRedirects(text).rules);
const errorOf = (text: string) => {
  try {
    parseRedirects(text);
  } catch (error) {
    return error as RuleError;
  }
  throw new Error("parsed");
};

describe("_redirects: parsing (Netlify syntax)", () => {
  test("from to [status][!]; default 301; comments and blank lines skipped", () => {
    const { rules } = parseRedirects(
      "# moved\n\n/old /new\n/a /b 302\n/c /d 200!   # trailing comment\n/e /f#top 308",
    );
    expect(rules.map((r) => [r.line, r.pattern.source, r.to, r.status, r.force])).toEqual([
      [3, "/old", "/new", 301, false],
      [4, "/a", "/b", 302, false],
      [5, "/c", "/d", 200, true],
      [6, "/e", "/f#top", 308, false],
    ]);
  });

  test("every error names its line", () => {
    expect(errorOf("/ok /fine\n/only-a-source").message).toBe(
      '_redirects:2: a rule needs a source and a target: "/only-a-source"',
    );
    expect(errorOf("/a /b 418").line).toBe(1);
    expect(errorOf("/a /b 418").reason).toContain('unknown status "418"');
    expect(errorOf("/a /b 30x").reason).toContain("unknown status");
    expect(errorOf("/a /b 301 extra").reason).toContain('unexpected "extra"');
    expect(errorOf("/a b").reason).toContain("must be a path");
    expect(errorOf("/a https://x.example/ 200").reason).toContain("must be a path");
    expect(errorOf("/a/*/b /c").reason).toContain('"*" may only be the last segment');
    expect(errorOf("/a/%zz /c").reason).toContain("percent-encoded");
    expect(errorOf("/:1x /c").reason).toContain("placeholder");
  });

  test("other platforms' conditions and host rules are skipped with a warning, not misread", () => {
    const parsed = parseRedirects(
      "/store id=:id /blog/:id 301\n/ /fr 302 Language=fr\nhttps://old.example/* /new 301\n/x /y",
    );
    expect(parsed.rules.map((r) => r.line)).toEqual([4]);
    expect(parsed.warnings).toHaveLength(3);
    expect(parsed.warnings[0]).toStartWith("_redirects:1: skipped:");
  });
});

describe("_redirects: matching", () => {
  test("exact paths, trailing slash ignored, query kept unless the target has one", () => {
    const t = table("/old /new\n/q /with?x=1 302\n/frag /b#top");
    expect(t.find("/old", "", false)).toEqual({ kind: "redirect", status: 301, location: "/new" });
    expect(t.find("/old/", "?a=1", false)).toEqual({
      kind: "redirect",
      status: 301,
      location: "/new?a=1",
    });
    expect(t.find("/q", "?a=1", false)).toMatchObject({ location: "/with?x=1" });
    expect(t.find("/frag", "?a=1", false)).toMatchObject({ location: "/b?a=1#top" });
    expect(t.find("/other", "", false)).toBeUndefined();
  });

  test(":name takes one segment; a trailing * is :splat (percent-encoded in the target)", () => {
    const t = table("/blog/:year/:slug /posts/:year-:slug\n/news/* /articles/:splat 302");
    expect(t.find("/blog/2024/hello", "", false)).toMatchObject({ location: "/posts/2024-hello" });
    expect(t.find("/blog/2024", "", false)).toBeUndefined();
    expect(t.find("/blog/2024/a/b", "", false)).toBeUndefined();
    expect(t.find("/news/a b/c", "", false)).toMatchObject({ location: "/articles/a%20b/c" });
    expect(t.find("/news", "", false)).toMatchObject({ location: "/articles/" });
  });

  test("absolute targets redirect off-site", () => {
    const t = table("/docs/* https://docs.example.com/:splat 308");
    expect(t.find("/docs/x", "?v=2", false)).toEqual({
      kind: "redirect",
      status: 308,
      location: "https://docs.example.com/x?v=2",
    });
  });

  test("200 rewrites and 404s serve a decoded path of this site, query dropped", () => {
    const t = table("/app/* /app/index.html 200\n/gone/* /caf%C3%A9.html?x 404");
    expect(t.find("/app/a/b", "?q", false)).toEqual({
      kind: "serve",
      status: 200,
      path: "/app/index.html",
    });
    expect(t.find("/gone/x", "", false)).toEqual({
      kind: "serve",
      status: 404,
      path: "/café.html",
    });
  });

  test("the first matching rule wins, across exact and pattern rules", () => {
    const t = table("/a/* /first\n/a/b /second\n/a/c /third\n/:x/d /fourth");
    expect(t.find("/a/b", "", false)).toMatchObject({ location: "/first" });
    const u = table("/a/b /exact\n/a/* /pattern\n/* /catch-all");
    expect(u.find("/a/b", "", false)).toMatchObject({ location: "/exact" });
    expect(u.find("/a/z", "", false)).toMatchObject({ location: "/pattern" });
    expect(u.find("/z", "", false)).toMatchObject({ location: "/catch-all" });
  });

  test("an existing file shadows every rule but a forced one (Netlify)", () => {
    const t = table("/page /shadowed\n/page /forced 302!\n/* /spa.html 200");
    expect(t.hasForced).toBe(true);
    expect(t.find("/page", "", true)).toMatchObject({ location: "/forced" });
    expect(t.find("/page", "", false)).toMatchObject({ location: "/shadowed" });
    expect(t.find("/exists.css", "", true)).toBeUndefined();
    expect(table("/a /b").hasForced).toBe(false);
  });

  test("10,000 exact rules: the last one is found by lookup", () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `/old/${i} /new/${i} 301`);
    const t = table(lines.join("\n"));
    expect(t.size).toBe(10_000);
    expect(t.find("/old/9999", "", false)).toMatchObject({ location: "/new/9999" });
  });
});
