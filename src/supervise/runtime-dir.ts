import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseIndex } from "../image/image-index.ts";
import { isSegmentName } from "../image/segments.ts";

const PREFIX = "memserve-";

/**
 * The directory on tmpfs where the builder writes images and every serving process maps them:
 * `/dev/shm/memserve-<pid>-XXXXXX` (the system temp dir where there is no /dev/shm). Its pages are
 * the bodies' only copy in memory. Directories left by a memserve that was killed (its pid is gone)
 * are removed first, so a crash does not hold memory until reboot.
 */
export function createRuntimeDir(): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  for (const name of safeReaddir(base)) {
    const pid = Number(/^memserve-(\d+)-/.exec(name)?.[1]);
    if (pid > 0 && !isAlive(pid)) rmSync(join(base, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const GENERATION = /(?:^|\/)gen-(\d+)\.json$/;

/** The name of image `generation` in a runtime dir: `imageName(3)` -> `"gen-3"`. */
export const imageName = (generation: number): string => `gen-${generation}`;

/** `generationOf("/dev/shm/memserve-1-x/gen-3.json")` -> 3; 0 for a path that is no image index. */
export function generationOf(indexPath: string): number {
  return Number(GENERATION.exec(indexPath)?.[1] ?? 0);
}

/**
 * The segments each index names. An index never changes once renamed into place, so it is parsed
 * once, not at every collection (one per swap and per worker report: several megabytes of JSON
 * each for a large site, in a serving process).
 */
const segmentsOf = new Map<string, readonly string[]>();

function indexSegments(path: string): readonly string[] {
  let segments = segmentsOf.get(path);
  if (segments === undefined) {
    segments = parseIndex(readFileSync(path, "utf8"), path).segments;
    segmentsOf.set(path, segments);
  }
  return segments;
}

/**
 * Deletes the images older than `oldest` (no process serves them any more) and the segments only
 * they named. With `orphans` (no builder running) it also deletes segments that no image names: a
 * killed builder's last writes. A running builder's new segments are named by no image until its
 * index is written, so they are left alone until then. Unlinking a segment that a process still
 * has mapped is safe: its pages live until the last mapping goes, so a response still sending from
 * an older snapshot finishes.
 */
export function collectGarbage(dir: string, oldest: number, orphans: boolean): void {
  const names = safeReaddir(dir);
  const kept = new Set<string>();
  const dropped = new Set<string>();
  for (const name of names) {
    const generation = generationOf(name);
    if (generation === 0) continue;
    const path = join(dir, name);
    let segments: readonly string[];
    try {
      segments = indexSegments(path);
    } catch {
      return; // unreadable: delete nothing this time
    }
    const into = generation < oldest ? dropped : kept;
    for (const segment of segments) into.add(segment);
    if (generation < oldest) {
      rmSync(path, { force: true });
      segmentsOf.delete(path);
    }
  }
  for (const name of names) {
    if (!isSegmentName(name) || kept.has(name)) continue;
    if (dropped.has(name) || orphans) rmSync(join(dir, name), { force: true });
  }
}
