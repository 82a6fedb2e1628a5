import type { Snapshot } from "./types.ts";

export interface SnapshotDiff {
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
}

/**
 * What a reload changed, by file: paths only in `next` are added, only in `previous` removed, and in
 * both with a different source version changed (an upgrade to better compression is not a change).
 *
 * @example diffSnapshots(before, after) // { added: 1, changed: 2, removed: 0 }
 */
export function diffSnapshots(previous: Snapshot, next: Snapshot): SnapshotDiff {
  let added = 0;
  let changed = 0;
  for (const [path, asset] of next.assets) {
    const old = previous.assets.get(path);
    if (old === undefined) added++;
    else if (old.source !== asset.source) changed++;
  }
  const removed = previous.assets.size - (next.assets.size - added);
  return { added, changed, removed };
}

/** True when nothing was added, changed or removed. */
export function isEmptyDiff(diff: SnapshotDiff): boolean {
  return diff.added === 0 && diff.changed === 0 && diff.removed === 0;
}
