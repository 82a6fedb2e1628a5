import { readFile } from "node:fs/promises";
import { deltaLevel } from "../dictionary/deltas.ts";
import { type DictionaryHistory, historyIn } from "../dictionary/history.ts";
import { dictionaryMatchFor } from "../dictionary/match.ts";
import { DELTA_CODINGS, dictionaryHash } from "../dictionary/wire.ts";
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
  // Deltas (RFC 9842) are kept against every version a file could get one against: the other
  // files of its match pattern and the versions the history remembers.
  const sources = new Map<string, Uint8Array>();
  await mapWithLimit(compressible, 4, async (file) => {
    try {
      const source = await readFile(file.absPath, { flag: READ_FLAGS });
      for (const codec of CODINGS) keep.add(store.entryName({ source, codec, level: "max" }));
      if (dictionaryMatchFor(file.urlPath) !== undefined) sources.set(file.urlPath, source);
    } catch (error) {
      // Its entries cannot be named, and may be needed once it is readable again: prune nothing.
      warn(
        `cannot read ${file.urlPath.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
      throw error;
    }
  });
  const history = historyIn(store.dir, Number.POSITIVE_INFINITY) as DictionaryHistory;
  const byMatch = new Map<string, Uint8Array[]>();
  for (const [path, source] of sources) {
    const match = dictionaryMatchFor(path) as string;
    byMatch.set(match, [...(byMatch.get(match) ?? []), source]);
  }
  for (const [match, files] of byMatch) {
    const dictionaries = [...files, ...(await history.versions(match))];
    for (const source of files) {
      for (const dictionary of dictionaries) {
        if (dictionary === source) continue;
        const level = deltaLevel(dictionaryHash(dictionary));
        for (const codec of DELTA_CODINGS) keep.add(store.entryName({ source, codec, level }));
      }
    }
  }
  return store.prune(keep);
}
