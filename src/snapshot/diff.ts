import type { Asset, Snapshot } from "./types.ts";

export interface SnapshotDiff {
  readonly added: number;
  readonly changed: number;
  readonly removed: number;
  /** `_redirects` was added, edited or removed. */
  readonly redirects: boolean;
}

/**
 * What a reload changed, by file: paths only in `next` are added, only in `previous` removed, and in
 * both with a different source version or head (`_headers` edited) changed; an upgrade to better
 * compression is not a change.
 *
 * @example diffSnapshots(before, after) // { added: 1, changed: 2, removed: 0, redirects: false }
 */
export function diffSnapshots(previous: Snapshot, next: Snapshot): SnapshotDiff {
  let added = 0;
  let changed = 0;
  for (const [path, asset] of next.assets) {
    const old = previous.assets.get(path);
    if (old === undefined) added++;
    else if (old !== asset && (old.source !== asset.source || headChanged(old, asset))) changed++;
  }
  const removed = previous.assets.size - (next.assets.size - added);
  const redirects = previous.redirects?.source.text !== next.redirects?.source.text;
  return { added, changed, removed, redirects };
}

/** The identity's 200 head is made from everything `_headers` can change. */
function headChanged(a: Asset, b: Asset): boolean {
  return JSON.stringify(a.identity.headers) !== JSON.stringify(b.identity.headers);
}

/** True when nothing was added, changed or removed. */
export function isEmptyDiff(diff: SnapshotDiff): boolean {
  return diff.added === 0 && diff.changed === 0 && diff.removed === 0 && !diff.redirects;
}
