import { describe, expect, test } from "bun:test";
import { compileMatch, dictionaryMatchFor, useAsDictionaryFor } from "./match.ts";

describe("Use-As-Dictionary for versioned files (RFC 9842 §2.1)", () => {
  test.each([
    ["/assets/app.3f9a1c2b.js", "/assets/app.*.js"],
    ["/assets/index-BXmT3kLp.js", "/assets/index-*.js"],
    ["/js/chunk-0001.5f2c9a1e.min.js", "/js/chunk-0001.*.min.js"],
    ["/_astro/index.Cx8vY2dL.css", "/_astro/index.*.css"],
    ["/static/a b+c.3f9a1c2b.js", "/static/a%20b\\+c.*.js"],
  ])("%s matches %s", (path, match) => {
    expect(dictionaryMatchFor(path)).toBe(match);
  });

  test.each([
    "/index.html",
    "/banner-Spring24.jpg",
    "/logo-2024.png",
    "/app.js",
    "/assets/app.3f9a1c2b.html",
  ])("%s has no hash: no announcement", (path) => {
    expect(dictionaryMatchFor(path)).toBeUndefined();
    expect(useAsDictionaryFor(path)).toBeUndefined();
  });

  test("match-dest where the type says how it is fetched; a structured-field string", () => {
    expect(useAsDictionaryFor("/assets/app.3f9a1c2b.js")).toBe(
      'match="/assets/app.*.js", match-dest=("script")',
    );
    expect(useAsDictionaryFor("/css/site.3f9a1c2b.css")).toBe(
      'match="/css/site.*.css", match-dest=("style")',
    );
    expect(useAsDictionaryFor("/data/table.3f9a1c2b.json")).toBe('match="/data/table.*.json"');
    expect(useAsDictionaryFor("/x/a+b.3f9a1c2b.js")).toBe(
      'match="/x/a\\\\+b.*.js", match-dest=("script")',
    );
  });

  test("every announced pattern matches its own file and the next version, and nothing else", () => {
    const cases: [string, string, string][] = [
      ["/assets/app.3f9a1c2b.js", "/assets/app.77aa0011.js", "/assets/vendor.77aa0011.js"],
      ["/x/a+b.3f9a1c2b.js", "/x/a+b.0000ffff.js", "/x/aab.0000ffff.js"],
    ];
    for (const [path, next, other] of cases) {
      const pattern = compileMatch(useAsDictionaryFor(path) ?? "");
      expect(pattern?.test({ pathname: encodeURI(path) })).toBe(true);
      expect(pattern?.test({ pathname: next })).toBe(true);
      expect(pattern?.test({ pathname: other })).toBe(false);
    }
  });

  test("an explicit value from _headers: its match compiles; none or a broken one gives undefined", () => {
    expect(
      compileMatch('match="/shared/*", match-dest=("script")')?.test({ pathname: "/shared/x.js" }),
    ).toBe(true);
    expect(compileMatch('id="dict-1", match="/app/*"')?.test({ pathname: "/app/a" })).toBe(true);
    expect(compileMatch('id="no-match"')).toBeUndefined();
    expect(compileMatch('match="/a/(("')).toBeUndefined();
  });
});
