import { readFile } from "node:fs/promises";
import { CODINGS } from "../snapshot/encode.ts";
import { mapWithLimit } from "../snapshot/map-limit.ts";
import { contentTypeFor } from "../snapshot/mime.ts";
import { READ_FLAGS, scanDirectory } from "../snapshot/scan.ts";
import { splitSidecars } from "../snapshot/sidecars.ts";
import type { CompressionStore, PruneResult } from "../snapshot/store.ts";

/**
 * `memserve prune <dir>`: deletes every store entry that no file of `root` would use — the entries
 * of files that changed or are gone. Reads each compressible file once to name its entries.
 */
export async function pruneStore(
  root: string,
  store: CompressionStore,
  warn: (message: string) => void,
): Promise<PruneResult> {
  const scan = await scanDirectory(root);
  for (const message of scan.warnings) warn(message);
  const { primaries } = splitSidecars(scan.files);
  const keep = new Set<string>();
  const compressible = primaries.filter((file) => contentTypeFor(file.urlPath).compressible);
  await mapWithLimit(compressible, 4, async (file) => {
    try {
      const source = await readFile(file.absPath, { flag: READ_FLAGS });
      for (const codec of CODINGS) keep.add(store.entryName({ source, codec, level: "max" }));
    } catch (error) {
      // Its entries cannot be named, and may be needed once it is readable again: prune nothing.
      warn(
        `cannot read ${file.urlPath.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
      throw error;
    }
  });
  return store.prune(keep);
}
