import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allocateWithHeadroom, readStable, takeHeadroom } from "./read-file.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "memserve-read-"));
  await writeFile(join(dir, "a.txt"), "hello");
  await writeFile(join(dir, "empty"), "");
  await symlink(join(dir, "a.txt"), join(dir, "link"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("takeHeadroom", () => {
  test("gives the head room in front of the body, once", () => {
    const body = allocateWithHeadroom(16, 3);
    body.set([1, 2, 3]);
    const response = takeHeadroom(body, 4);
    expect(response?.length).toBe(7);
    expect([...(response?.subarray(4) ?? [])]).toEqual([1, 2, 3]);
    expect(response?.buffer).toBe(body.buffer); // no copy
    // A second head would overwrite bytes an older response may be sending.
    expect(takeHeadroom(body, 4)).toBeUndefined();
  });

  test("refuses buffers it did not allocate and heads longer than the room", () => {
    expect(takeHeadroom(Buffer.alloc(10).subarray(5), 2)).toBeUndefined();
    expect(takeHeadroom(allocateWithHeadroom(4, 3), 5)).toBeUndefined();
  });

  test("refuses a view that does not end where the buffer ends", () => {
    expect(takeHeadroom(allocateWithHeadroom(8, 4).subarray(0, 2), 4)).toBeUndefined();
  });
});

describe("readStable", () => {
  test("reads the whole file behind the headroom, with its mtime", async () => {
    const { bytes, mtimeMs } = await readStable(join(dir, "a.txt"), 32);
    expect(bytes.toString()).toBe("hello");
    expect(bytes.byteOffset).toBe(32);
    expect(mtimeMs).toBeGreaterThan(0);
    expect(takeHeadroom(bytes, 32)?.length).toBe(37);
  });

  test("an empty file is an empty body", async () => {
    expect((await readStable(join(dir, "empty"), 8)).bytes.length).toBe(0);
  });

  test("a missing file, a directory and a symlink are errors", async () => {
    await expect(readStable(join(dir, "missing"), 8)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(readStable(dir, 8)).rejects.toThrow("not a regular file");
    // Scanned paths are real paths: a file replaced by a link since the scan must not be followed.
    await expect(readStable(join(dir, "link"), 8)).rejects.toMatchObject({ code: "ELOOP" });
  });
});
