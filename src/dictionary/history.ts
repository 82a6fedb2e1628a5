// The earlier versions of each versioned file, remembered in the cache dir: after a deploy the old
// bundle is gone from the site, but returning browsers still hold it as their dictionary.
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

const sha256Hex = (bytes: Uint8Array | string): string =>
  new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

interface PatternFile {
  readonly match: string;
  /** SHA-256 (hex) of each version's bytes, newest first. */
  readonly versions: readonly string[];
}

/**
 * Per `Use-As-Dictionary` match pattern, the bytes of its last `keep` versions, content-addressed
 * (`<dir>/<sha256>.bin`, verified on read) under `<dir>/<hash of the pattern>.json`. Never throws
 * for IO errors: a missing or corrupt entry is a version not remembered, and after a failed write it
 * warns once and remembers nothing more.
 */
export class DictionaryHistory {
  #failed = false;

  constructor(
    readonly dir: string,
    readonly keep: number,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** The remembered versions' bytes, newest first. */
  async versions(match: string): Promise<Uint8Array[]> {
    const file = await this.#read(match);
    const found: Uint8Array[] = [];
    for (const hash of file?.versions ?? []) {
      const bytes = await readFile(join(this.dir, `${hash}.bin`)).catch(() => undefined);
      if (bytes !== undefined && sha256Hex(bytes) === hash) found.push(bytes);
    }
    return found;
  }

  /** Makes `bytes` the newest version of `match`; versions beyond `keep` are forgotten. */
  async record(match: string, bytes: Uint8Array): Promise<void> {
    if (this.#failed) return;
    const hash = sha256Hex(bytes);
    const before = (await this.#read(match))?.versions ?? [];
    if (before[0] === hash) return;
    const versions = [hash, ...before.filter((h) => h !== hash)].slice(0, this.keep);
    try {
      await mkdir(this.dir, { recursive: true });
      await atomicWrite(join(this.dir, `${hash}.bin`), bytes);
      const text = JSON.stringify({ match, versions } satisfies PatternFile);
      await atomicWrite(this.#pathOf(match), text);
    } catch (error) {
      this.#failed = true;
      this.warn(`cannot remember dictionary versions in ${this.dir}: ${(error as Error).message}`);
      return;
    }
    for (const gone of before.filter((h) => !versions.includes(h))) {
      await unlink(join(this.dir, `${gone}.bin`)).catch(() => {});
    }
  }

  #pathOf(match: string): string {
    return join(this.dir, `${sha256Hex(match).slice(0, 32)}.json`);
  }

  async #read(match: string): Promise<PatternFile | undefined> {
    try {
      const file = JSON.parse(await readFile(this.#pathOf(match), "utf8")) as PatternFile;
      if (file.match !== match || !Array.isArray(file.versions)) return undefined;
      return { match, versions: file.versions.filter((h) => /^[0-9a-f]{64}$/.test(h)) };
    } catch {
      return undefined;
    }
  }
}

/**
 * The history in `cacheDir` (its `dictionaries/` directory), keeping `versions` per pattern;
 * undefined without a cache dir or with dictionaries off.
 */
export function historyIn(
  cacheDir: string | undefined,
  versions: number,
  warn?: (message: string) => void,
): DictionaryHistory | undefined {
  if (cacheDir === undefined || versions <= 0) return undefined;
  return new DictionaryHistory(join(cacheDir, "dictionaries"), versions, warn);
}

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${Math.random().toString(16).slice(2)}`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}
