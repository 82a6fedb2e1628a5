import { type FSWatcher, watch } from "node:fs";

export interface WatchOptions {
  /** A burst of changes is over when none came for this long (default 200 ms). */
  readonly quietMs?: number;
  /** ...or at the latest this long after its first change, so steady writing still reloads. */
  readonly maxDelayMs?: number;
  /** Every change event, as it comes. */
  readonly onChange?: () => void;
  /** The watch itself failed (the root was removed, too many watches): it is closed. */
  readonly onError?: (error: Error) => void;
}

/**
 * Watches `root` recursively and calls `onSettled` once per burst of changes: a deploy writing
 * hundreds of files is one reload, not hundreds.
 *
 * @example const watcher = watchTree("site", () => live.reload()); ... watcher.close();
 */
export function watchTree(
  root: string,
  onSettled: () => void,
  options: WatchOptions = {},
): { close(): void } {
  const quietMs = options.quietMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 2000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let burstStarted = 0;
  const fire = () => {
    timer = undefined;
    onSettled();
  };
  const watcher: FSWatcher = watch(root, { recursive: true }, () => {
    options.onChange?.();
    const now = performance.now();
    if (timer === undefined) burstStarted = now;
    clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, Math.min(quietMs, burstStarted + maxDelayMs - now)));
  });
  watcher.on("error", (error) => {
    watcher.close();
    options.onError?.(error);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
