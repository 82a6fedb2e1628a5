import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { READ_FLAGS, type ScanResult, scanDirectory } from "./scan.ts";

const isRoot = process.getuid?.() === 0;
let base: string;
let root: string;
let outside: string;
let socketServer: Server;
let result: ScanResult;

async function put(path: string, text: string): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), "memserve-scan-")));
  root = join(base, "site");
  outside = join(base, "outside");
  await put(join(outside, "secret.txt"), "secret");
  await put(join(root, "index.html"), "<h1>hi</h1>");
  await put(join(root, "css/app.css"), "body{}");
  await put(join(root, "deep/a/b/c.txt"), "c");
  await put(join(root, "my file #1 100% ?.txt"), "odd");
  await put(join(root, "café/naïve.txt"), "unicode");
  await put(join(root, ".env"), "SECRET=1");
  await put(join(root, ".git/config"), "[core]");
  await put(join(root, "css/.hidden.css"), "x");
  await put(join(root, ".well-known/security.txt"), "Contact: x");
  await put(join(root, ".well-known/.private"), "x");
  await put(join(root, "sub/.well-known/x.txt"), "not top-level");
  await symlink("css/app.css", join(root, "linked.css"));
  await symlink("deep/a", join(root, "linked-dir"));
  await symlink(outside, join(root, "out-dir"));
  await symlink("../outside/secret.txt", join(root, "out-file.txt"));
  await symlink("missing.txt", join(root, "broken.txt"));
  await symlink("..", join(root, "deep/a/up")); // -> deep: an ancestor, a loop
  await symlink(".", join(root, "self"));
  spawnSync("mkfifo", [join(root, "pipe")]);
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(join(root, "sock"), resolve));
  result = await scanDirectory(root);
});

afterAll(async () => {
  await new Promise((resolve) => socketServer.close(resolve));
  await rm(base, { recursive: true, force: true });
});

describe("scanDirectory", () => {
  test("lists regular files by decoded URL path, sorted", () => {
    expect(result.files.map((f) => f.urlPath)).toEqual([
      "/.well-known/security.txt",
      "/café/naïve.txt",
      "/css/app.css",
      "/deep/a/b/c.txt",
      "/index.html",
      "/linked-dir/b/c.txt",
      "/linked.css",
      "/my file #1 100% ?.txt",
    ]);
  });

  test("records size, mtime and a readable absolute path", async () => {
    const css = result.files.find((f) => f.urlPath === "/css/app.css");
    expect(css).toMatchObject({ absPath: join(root, "css/app.css"), size: 6 });
    expect(css?.mtimeMs).toBeGreaterThan(0);
    const odd = result.files.find((f) => f.urlPath.startsWith("/my file"));
    expect(await Bun.file(odd?.absPath ?? "").text()).toBe("odd");
  });

  test("symlinks inside the root are served under the link's name from the real path", () => {
    const linked = result.files.find((f) => f.urlPath === "/linked.css");
    expect(linked?.absPath).toBe(join(root, "css/app.css"));
    const viaDir = result.files.find((f) => f.urlPath === "/linked-dir/b/c.txt");
    expect(viaDir?.absPath).toBe(join(root, "deep/a/b/c.txt"));
  });

  test("warns about every entry it skips, except dotfiles", () => {
    expect(result.warnings).toEqual(
      [
        `skipped broken symlink (ENOENT): broken.txt -> missing.txt`,
        `skipped fifo: pipe`,
        `skipped socket: sock`,
        `skipped symlink loop: deep/a/up -> ${join(root, "deep")}`,
        `skipped symlink loop: linked-dir/up -> ${join(root, "deep")}`,
        `skipped symlink loop: self -> ${root}`,
        `skipped symlink outside root: out-dir -> ${outside}`,
        `skipped symlink outside root: out-file.txt -> ${join(outside, "secret.txt")}`,
      ].sort(),
    );
  });

  test("a link to a directory whose real path only shares a prefix with the root is outside", async () => {
    await mkdir(`${root}-evil`, { recursive: true });
    await symlink(`${root}-evil`, join(root, "prefix"));
    try {
      const { warnings } = await scanDirectory(root);
      expect(warnings).toContain(`skipped symlink outside root: prefix -> ${root}-evil`);
    } finally {
      await rm(join(root, "prefix"));
    }
  });

  test("directories linking to each other are walked once per chain", async () => {
    const dir = join(base, "mutual");
    await put(join(dir, "x/a.txt"), "a");
    await put(join(dir, "y/b.txt"), "b");
    await symlink("../y", join(dir, "x/to-y"));
    await symlink("../x", join(dir, "y/to-x"));
    const { files, warnings } = await scanDirectory(dir);
    expect(files.map((f) => f.urlPath)).toEqual([
      "/x/a.txt",
      "/x/to-y/b.txt",
      "/y/b.txt",
      "/y/to-x/a.txt",
    ]);
    expect(warnings).toEqual([
      `skipped symlink loop: x/to-y/to-x -> ${join(dir, "x")}`,
      `skipped symlink loop: y/to-x/to-y -> ${join(dir, "y")}`,
    ]);
  });

  test("READ_FLAGS reads a real path but refuses a file swapped for a link or fifo", async () => {
    expect(await readFile(join(root, "css/app.css"), { flag: READ_FLAGS })).toHaveLength(6);
    await expect(readFile(join(root, "linked.css"), { flag: READ_FLAGS })).rejects.toThrow();
    expect(await readFile(join(root, "pipe"), { flag: READ_FLAGS })).toHaveLength(0); // no hang
  });

  test("the root itself may be a symlink", async () => {
    const link = join(base, "site-link");
    await symlink(root, link);
    const { files } = await scanDirectory(link);
    expect(files.map((f) => f.urlPath)).toEqual(result.files.map((f) => f.urlPath));
  });

  test("an empty directory has no files", async () => {
    await mkdir(join(base, "empty"));
    expect(await scanDirectory(join(base, "empty"))).toMatchObject({
      files: [],
      warnings: [],
      unreadable: [],
    });
  });

  test("rejects a root that is missing or not a directory", async () => {
    const missing = join(base, "nope");
    const file = join(root, "index.html");
    await expect(scanDirectory(missing)).rejects.toThrow(`no such directory: ${missing}`);
    await expect(scanDirectory(file)).rejects.toThrow(`not a directory: ${file}`);
    await expect(scanDirectory(join(file, "x"))).rejects.toThrow("no such directory: ");
  });

  // Root reads through any permission bits, so this can only be observed as another user.
  test.skipIf(isRoot)("an unreadable subdirectory is a warning, not a crash", async () => {
    const locked = join(root, "locked");
    await put(join(locked, "x.txt"), "x");
    await chmod(locked, 0o000);
    try {
      const { files, warnings, unreadable } = await scanDirectory(root);
      expect(warnings).toContain("cannot read directory locked: EACCES");
      expect(unreadable).toEqual(["cannot read directory locked: EACCES"]);
      expect(files.some((f) => f.urlPath.startsWith("/locked"))).toBe(false);
    } finally {
      await chmod(locked, 0o755);
      await rm(locked, { recursive: true });
    }
  });

  test.skipIf(isRoot)("an unreadable root is an error", async () => {
    const locked = join(base, "locked-root");
    await mkdir(locked);
    await chmod(locked, 0o000);
    try {
      await expect(scanDirectory(locked)).rejects.toThrow(
        `cannot read directory ${locked}: EACCES`,
      );
    } finally {
      await chmod(locked, 0o755);
    }
  });
});
