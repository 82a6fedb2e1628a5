import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { storedVariants } from "../snapshot/asset.ts";
import { buildSnapshot } from "../snapshot/build.ts";
import type { ContentCoding, Snapshot, Variant } from "../snapshot/types.ts";
import { DEFAULT_HANDLER_OPTIONS, decide, type HandlerOptions, type Outcome } from "./decide.ts";
import { encodePath, parsePath } from "./path.ts";

/**
 * Whatever the request target, decide() answers from the snapshot or with a short status: it can
 * never name a body that is not one of the snapshot's own variants, point a redirect at another
 * origin, or reach a file outside the root (a sibling directory, a symlink out, a dotfile).
 */

const SECRET = "TOP-SECRET-7f3c9e1a-outside-the-root";
const DOTFILE_SECRET = "DOTFILE-SECRET-55aa";
const FILES: Record<string, string> = {
  "index.html": `<!doctype html><title>home</title>${"<p>hello</p>\n".repeat(100)}`,
  "404.html": `<!doctype html><title>404</title>${"<p>nothing</p>\n".repeat(40)}`,
  "a b.txt": "spaces\n",
  "café/menü.html": "<p>unicode</p>",
  "100% real.txt": "percent\n",
  "%2e%2e.txt": "an encoded dot-dot as a literal name\n",
  "sub/dir/style.css": `${".c { color: red; }\n".repeat(80)}`,
  "docs/index.html": "<p>docs</p>",
  ".env": DOTFILE_SECRET,
};

let base: string;
let snapshot: Snapshot;
/** Every variant of the snapshot -> the key of the asset that holds it. */
const owners = new Map<Variant<ContentCoding>, string>();

beforeAll(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), "memserve-decide-")));
  const root = join(base, "site");
  for (const [name, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  // The sibling a `..` would reach, linked in twice: as a file and as a directory.
  mkdirSync(join(base, "outside"));
  writeFileSync(join(base, "outside", "secret.txt"), SECRET);
  symlinkSync(join(base, "outside", "secret.txt"), join(root, "leak.txt"));
  symlinkSync(join(base, "outside"), join(root, "outside-link"));
  snapshot = await buildSnapshot(root, {
    maxAge: 60,
    cacheControl: undefined,
    extraHeaders: {},
    onWarning: () => {},
  });
  for (const [key, asset] of snapshot.assets) {
    for (const { variant } of storedVariants(asset)) owners.set(variant, key);
  }
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const textOf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
const leaks = (text: string) => text.includes(SECRET) || text.includes(DOTFILE_SECRET);

/** RFC 9112 §3.2: what a transport can hand over as a target (visible ASCII only). */
const WIRE_TARGET = /^[\x21-\x7e]+$/;

function headerReader(fields: Readonly<Record<string, string>>) {
  return { get: (name: string) => fields[name] ?? null };
}

function checkOutcome(outcome: Outcome, target: string): void {
  if (outcome.kind === "status") {
    expect([204, 301, 400, 404, 405, 412, 416]).toContain(outcome.status);
    expect(leaks(outcome.text)).toBe(false);
    for (const value of Object.values(outcome.headers)) {
      expect(leaks(value)).toBe(false);
      // Response splitting: only reachable if a transport let a control into the target.
      if (WIRE_TARGET.test(target)) expect(value).not.toMatch(/[\0\r\n]/);
    }
    const location = outcome.headers.location;
    if (outcome.status === 301) checkRedirect(location, target);
    else expect(location).toBeUndefined();
    return;
  }
  // A body: one of the snapshot's own variants, held by the asset under its own key.
  const key = owners.get(outcome.variant);
  expect(key).toBeDefined();
  const asset = snapshot.assets.get(key as string);
  expect(asset?.path).toBe(key as string);
  expect(asset && [...storedVariants(asset)].some((s) => s.variant === outcome.variant)).toBe(true);
  if (outcome.kind === "partial") expect(outcome.asset).toBe(asset as NonNullable<typeof asset>);
  if (outcome.kind === "full" && outcome.status === 404) expect(key).toBe("/404.html");
  expect(textOf(outcome.variant.response).includes(SECRET)).toBe(false);
}

/** RFC 9110 §10.2.2: a relative Location that resolves on the same origin, to an existing directory. */
function checkRedirect(location: string | undefined, target: string): void {
  expect(location).toBeDefined();
  const value = location as string;
  expect(value.startsWith("//")).toBe(false);
  expect(value.startsWith("\\")).toBe(false);
  expect(value).not.toMatch(/^[A-Za-z][A-Za-z0-9+.-]*:/);
  const parsed = parsePath(target);
  if (!parsed.ok) throw new Error(`redirect for a target that does not parse: ${target}`);
  const origin = "http://memserve.test";
  const resolved = new URL(value, `${origin}${encodePath(parsed.path)}`);
  expect(resolved.origin).toBe(origin);
  const directory = parsePath(resolved.pathname);
  expect(directory.ok && snapshot.assets.has(`${directory.path}index.html`)).toBe(true);
}

/** Pieces that probe every rule of the path decoder, plus names from the fixture and outside it. */
const piece = fc.oneof(
  fc.constantFrom("/", "//", "///", ".", "..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%2e", "\\"),
  fc.constantFrom("%5c", "%5C", "%2f", "%2F", "%00", "%25", "%", "?", "#", "%3F", "%23", "%0d%0a"),
  fc.constantFrom(
    "outside",
    "secret.txt",
    "leak.txt",
    "outside-link",
    ".env",
    "site",
    "index.html",
  ),
  fc.constantFrom("docs", "sub", "dir", "café", "caf%C3%A9", "menü.html", "a b.txt", "a%20b.txt"),
  fc.constantFrom(
    "%2e%2e.txt",
    "%252e%252e.txt",
    "100%25 real.txt",
    "%C0%AE",
    "．．",
    "@",
    "evil.com",
  ),
  fc.constantFrom("http:", "//evil.com", "/\\evil.com", "?x=//evil.com", "\u{1F600}", "\uD800"),
  fc.string({ unit: "binary", maxLength: 3 }),
);
const pieced = fc.array(piece, { maxLength: 10 }).map((parts) => `/${parts.join("")}`);

/** A real key, raw or encoded, then cut, extended or spliced with hostile pieces. */
const fromKey = fc
  .tuple(
    fc.constantFrom(...Object.keys(FILES).map((name) => `/${name}`), "/docs/", "/docs", "/café"),
    fc.boolean(),
    fc.array(fc.tuple(fc.nat(), piece), { maxLength: 3 }),
    fc.constantFrom("", "/", "/..", "/../outside/secret.txt", "?q=1", "?\\evil", "#f"),
  )
  .map(([key, encode, splices, tail]) => {
    let target = encode ? encodePath(key) : key;
    for (const [at, text] of splices) {
      const i = at % (target.length + 1);
      target = target.slice(0, i) + text + target.slice(i);
    }
    return target + tail;
  });

const target = fc.oneof(
  { arbitrary: fromKey, weight: 3 },
  { arbitrary: pieced, weight: 2 },
  { arbitrary: fc.string({ unit: "binary" }), weight: 1 },
  { arbitrary: fc.string(), weight: 1 },
);

const headers = fc.record(
  {
    "accept-encoding": fc.constantFrom(
      "br",
      "gzip, deflate",
      "zstd;q=1, *;q=0",
      "identity;q=0",
      "",
    ),
    range: fc.constantFrom("bytes=0-3", "bytes=-5", "bytes=1-2,4-9", "bytes=999999-", "bytes=x"),
    "if-none-match": fc.constantFrom("*", '"nope"', 'W/"x"'),
    "if-match": fc.constantFrom("*", '"nope"'),
    "if-range": fc.constantFrom('"nope"', "Thu, 01 Jan 1970 00:00:00 GMT"),
  },
  { requiredKeys: [] },
);

describe.each([
  ["default options", DEFAULT_HANDLER_OPTIONS],
  ["spa: true", { ...DEFAULT_HANDLER_OPTIONS, spa: true }],
] as [string, HandlerOptions][])("decide() on hostile targets, %s", (_, options) => {
  test("the snapshot holds nothing from outside the root or from dotfiles", () => {
    expect(snapshot.assets.size).toBe(Object.keys(FILES).length - 1);
    for (const variant of owners.keys()) expect(textOf(variant.bytes).includes(SECRET)).toBe(false);
    for (const key of snapshot.assets.keys()) expect(key).not.toMatch(/leak|outside|\.env/);
  });

  test("RFC 3986 §7.3: every body is a snapshot variant, every redirect same-origin", () => {
    fc.assert(
      fc.property(fc.constantFrom("GET", "HEAD"), target, headers, (method, raw, fields) => {
        checkOutcome(decide(snapshot, method, raw, headerReader(fields), options), raw);
      }),
      { numRuns: 6000 },
    );
  });
});

describe("decide() as an embedded core", () => {
  test("RFC 9110 §5.5: a raw query with CR or LF never reaches the Location header", () => {
    const outcome = decide(
      snapshot,
      "GET",
      "/docs?\r\nSet-Cookie: x=1",
      headerReader({}),
      DEFAULT_HANDLER_OPTIONS,
    );
    expect(outcome.kind).toBe("status");
    const location = outcome.kind === "status" ? outcome.headers?.location : undefined;
    expect(location).toBe("./docs/");
  });
});
