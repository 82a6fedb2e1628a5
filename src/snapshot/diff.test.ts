import { describe, expect, test } from "bun:test";
import { diffSnapshots, isEmptyDiff } from "./diff.ts";
import type { Asset, Snapshot } from "./types.ts";

const snapshot = (
  files: Record<string, string>,
  redirects?: string,
  headers: Record<string, string> = {},
): Snapshot =>
  ({
    assets: new Map(
      Object.entries(files).map(([path, source]) => [
        path,
        { path, source, identity: { headers } } as unknown as Asset,
      ]),
    ),
    redirects:
      redirects === undefined ? undefined : { source: { file: "_redirects", text: redirects } },
  }) as unknown as Snapshot;

describe("diffSnapshots", () => {
  test("counts added, changed and removed paths", () => {
    const before = snapshot({ "/a": "1", "/b": "1", "/c": "1" });
    const after = snapshot({ "/a": "1", "/b": "2", "/d": "1", "/e": "1" });
    expect(diffSnapshots(before, after)).toEqual({
      added: 2,
      changed: 1,
      removed: 1,
      redirects: false,
    });
  });

  test("the same sources in new asset objects (a compression upgrade) are no change", () => {
    const diff = diffSnapshots(snapshot({ "/a": "1" }), snapshot({ "/a": "1" }));
    expect(diff).toEqual({ added: 0, changed: 0, removed: 0, redirects: false });
    expect(isEmptyDiff(diff)).toBe(true);
  });

  test("from and to an empty tree", () => {
    expect(diffSnapshots(snapshot({}), snapshot({ "/a": "1" }))).toEqual({
      added: 1,
      changed: 0,
      removed: 0,
      redirects: false,
    });
    expect(diffSnapshots(snapshot({ "/a": "1" }), snapshot({}))).toEqual({
      added: 0,
      changed: 0,
      removed: 1,
      redirects: false,
    });
  });

  test("a new head for the same bytes (_headers edited) is a change", () => {
    const before = snapshot({ "/a": "1" }, undefined, { "x-a": "1" });
    const after = snapshot({ "/a": "1" }, undefined, { "x-a": "2" });
    expect(diffSnapshots(before, after).changed).toBe(1);
  });

  test("an edited, added or removed _redirects is a change on its own", () => {
    const files = { "/a": "1" };
    expect(diffSnapshots(snapshot(files, "/x /y"), snapshot(files, "/x /z")).redirects).toBe(true);
    expect(isEmptyDiff(diffSnapshots(snapshot(files), snapshot(files, "/x /y")))).toBe(false);
    expect(isEmptyDiff(diffSnapshots(snapshot(files, "/x /y"), snapshot(files, "/x /y")))).toBe(
      true,
    );
  });
});
