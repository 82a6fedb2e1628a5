import { lstat, mkdir, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** The codings the store holds (the same names as `Coding` in compress.ts). */
export type StoreCodec = "br" | "zstd" | "gzip" | "dcb" | "dcz";

/** What an entry is the encoding of: the original bytes, coded with `codec` at `level`. */
export interface StoreKey {
  readonly source: Uint8Array;
  readonly codec: StoreCodec;
  /** Any name for the settings, 1-32 of `[A-Za-z0-9_-]`: `"max"`, `"br-11"`. */
  readonly level: string;
}

export interface PruneResult {
  /** Entries and stale temp files deleted. */
  readonly removed: number;
  /** Entries named in `keep` (temp files of running writers and foreign files are not counted). */
  readonly kept: number;
  readonly bytesFreed: number;
}

type Tally = { -readonly [K in keyof PruneResult]: number };

/**
 * A directory of compressed variants named by what they encode, so a restart with unchanged files
 * finds its maximum-quality encodings instead of recompressing.
 */
export interface CompressionStore {
  /**
   * The stored encoding of `source`, verified; undefined when absent, unreadable or corrupt (a
   * corrupt entry is deleted). Never throws for IO errors.
   */
  get(key: StoreKey): Promise<Uint8Array | undefined>;
  /**
   * Stores `encoded` atomically (temp file in the same directory + rename). Never throws: after any
   * IO error (EACCES, EROFS, ENOSPC...) it warns once and stores nothing more.
   */
  put(key: StoreKey, encoded: Uint8Array): Promise<void>;
  /** Deletes entries whose name (`entryName`) is not in `keep`, and temp files over an hour old. */
  prune(keep: ReadonlySet<string>): Promise<PruneResult>;
  /** The entry's path relative to `dir`: `"ab/ab12…ef.br-max"`. TypeError on a bad level. */
  entryName(key: StoreKey): string;
  /** Absolute. */
  readonly dir: string;
}

// Entry file: one text line `MSV1 <codec> <level> <sha256 of payload, hex> <payload length>\n`,
// then the payload. Text so `head -1` shows it; the payload hash catches truncation and bit rot.
const MAGIC = "MSV1";
const MAX_HEADER = 128; // the longest is 4+1+4+1+32+1+64+1+16 digits+1 = 125 bytes
const LEVEL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const ENTRY = /^[0-9a-f]{64}\.(?:br|zstd|gzip|dcb|dcz)-[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const FAN_OUT = /^[0-9a-f]{2}$/;
const TEMP = /\.tmp-\d+-[0-9a-f]+$/;
const PROBE = /^\.probe\.tmp-\d+-[0-9a-f]+$/;
/** A temp file this old belongs to a writer that crashed: no write of one variant takes an hour. */
const STALE_TEMP_MS = 60 * 60 * 1000;

const ignore = (): void => {};
const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/**
 * Where the store lives unless `--cache-dir` says otherwise: the platform's per-user cache dir.
 * Everywhere but macOS that is the XDG Base Directory rule, under which a relative XDG_CACHE_HOME
 * is invalid (ignored). The arguments exist for tests.
 *
 * @example defaultCacheDir({ XDG_CACHE_HOME: "/var/c" }, "linux", "/home/u") // "/var/c/memserve"
 * @example defaultCacheDir({}, "linux", "/home/u")   // "/home/u/.cache/memserve"
 * @example defaultCacheDir({}, "darwin", "/Users/u") // "/Users/u/Library/Caches/memserve"
 */
export function defaultCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === "darwin") return join(home, "Library", "Caches", "memserve");
  const xdg = env.XDG_CACHE_HOME;
  return xdg?.startsWith("/") ? join(xdg, "memserve") : join(home, ".cache", "memserve");
}

function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

// get, then put on a miss, for three codecs names the same source up to six times; the memo hashes
// it once. Keyed by the array object, so it assumes (as the snapshot guarantees) sources are not
// mutated after their first use.
const sourceHashes = new WeakMap<Uint8Array, string>();

function sourceHash(source: Uint8Array): string {
  const hash = sourceHashes.get(source) ?? sha256Hex(source);
  sourceHashes.set(source, hash);
  return hash;
}

/** `<pid>-<random>`: unique among processes and among concurrent puts of one process. */
function tempSuffix(): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  return `.tmp-${process.pid}-${random.toString(16)}`;
}

/** Header line + payload in one buffer, for one `writeFile` (which retries short writes). */
function entryBytes(key: StoreKey, payload: Uint8Array): Uint8Array {
  const line = `${MAGIC} ${key.codec} ${key.level} ${sha256Hex(payload)} ${payload.length}\n`;
  return Buffer.concat([new TextEncoder().encode(line), payload]);
}

/**
 * The payload of an entry file if it is intact and for `key`'s codec and level, else why not.
 *
 * @example verifyEntry(entryBytes(key, payload), key)  // payload (a view, no copy)
 * @example verifyEntry(entry minus its last 3 bytes, key) // "97 bytes, header says 100"
 */
function verifyEntry(file: Uint8Array, key: StoreKey): Uint8Array | string {
  const end = file.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (end < 0) return "no header line";
  const fields = new TextDecoder().decode(file.subarray(0, end)).split(" ");
  const [magic, codec, level, digest, length] = fields;
  if (fields.length !== 5 || magic !== MAGIC) return "bad magic";
  // The name already matches by construction; this catches a file copied or renamed by hand.
  if (codec !== key.codec || level !== key.level) return `holds ${codec} ${level}`;
  const payload = new Uint8Array(file.buffer, file.byteOffset + end + 1, file.length - end - 1);
  if (String(payload.length) !== length) return `${payload.length} bytes, header says ${length}`;
  if (sha256Hex(payload) !== digest) return "payload hash mismatch";
  return payload;
}

class DirStore implements CompressionStore {
  readonly #warned = new Set<"corrupt" | "read">();

  constructor(
    readonly dir: string,
    private writable: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  entryName(key: StoreKey): string {
    if (!LEVEL.test(key.level))
      throw new TypeError(`invalid store level: ${JSON.stringify(key.level)}`);
    const hash = sourceHash(key.source);
    // Two-hex-digit fan-out: 256 directories keep each small even at 100k entries.
    return `${hash.slice(0, 2)}/${hash}.${key.codec}-${key.level}`;
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    const path = join(this.dir, this.entryName(key));
    let file: Uint8Array;
    try {
      file = await readFile(path);
    } catch (error) {
      const code = codeOf(error);
      // ENOTDIR: the fan-out name is a file; either way the entry is absent.
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        this.#warnOnce("read", `cannot read cache entry ${path} (${code}); rebuilt`);
      }
      return undefined;
    }
    const payload = verifyEntry(file, key);
    if (typeof payload !== "string") return payload;
    // Deleted so the put after the rebuild replaces it; a read-only store just cannot.
    await unlink(path).catch(ignore);
    this.#warnOnce("corrupt", `cache entry ${path} was corrupt (${payload}); rebuilt`);
    return undefined;
  }

  async put(key: StoreKey, encoded: Uint8Array): Promise<void> {
    if (!this.writable) return;
    const path = join(this.dir, this.entryName(key));
    const temp = path + tempSuffix();
    try {
      await mkdir(dirname(path), { recursive: true });
      // No fsync: an entry that a power cut leaves empty or torn fails verification and is rebuilt,
      // while an fsync per variant would cost milliseconds each on a site of thousands of files.
      await writeFile(temp, entryBytes(key, encoded), { flag: "wx" });
      // Atomic replace: readers see the old entry or the new one, never part of one. A concurrent
      // writer of the same key writes the same bytes, so whichever rename lands last is fine.
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(ignore);
      this.#disableWrites(error);
    }
  }

  async prune(keep: ReadonlySet<string>): Promise<PruneResult> {
    const result: Tally = { removed: 0, kept: 0, bytesFreed: 0 };
    const now = Date.now();
    for (const top of await listDir(this.dir)) {
      if (PROBE.test(top)) await this.#removeIfStale(join(this.dir, top), now, result);
      if (!FAN_OUT.test(top)) continue; // anything else at the top is not ours: left alone
      const fanDir = join(this.dir, top);
      for (const file of await listDir(fanDir)) await this.#pruneFile(top, file, keep, now, result);
      // Empty fan-out directories stay: removing one could race a running server's put into it.
    }
    return result;
  }

  /** One file of fan-out directory `fan`: kept, deleted, or (not named like ours) left alone. */
  async #pruneFile(
    fan: string,
    file: string,
    keep: ReadonlySet<string>,
    now: number,
    result: Tally,
  ): Promise<void> {
    const path = join(this.dir, fan, file);
    if (TEMP.test(file)) return this.#removeIfStale(path, now, result);
    if (!ENTRY.test(file) || !file.startsWith(fan)) return;
    if (keep.has(`${fan}/${file}`)) result.kept++;
    else await this.#remove(path, result);
  }

  async #removeIfStale(path: string, now: number, result: Tally): Promise<void> {
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() && now - info.mtimeMs > STALE_TEMP_MS) await this.#remove(path, result);
  }

  async #remove(path: string, result: Tally): Promise<void> {
    try {
      const { size } = await lstat(path);
      await unlink(path);
      result.removed++;
      result.bytesFreed += size;
    } catch (error) {
      if (codeOf(error) !== "ENOENT") this.warn(`cannot remove ${path} (${codeOf(error)})`);
    }
  }

  /** Any write error stops writes: the store is optional, and one warning beats one per file. */
  #disableWrites(error: unknown): void {
    if (!this.writable) return;
    this.writable = false;
    this.warn(`cache dir ${this.dir} is not writable (${codeOf(error)}): storing no new entries`);
  }

  #warnOnce(kind: "corrupt" | "read", message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.warn(message);
  }
}

/** Names in `dir`; none when it is missing or not a directory. */
async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = codeOf(error);
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
}

/**
 * Opens (creating it if needed) the store at `dir`. When `dir` cannot be written it warns and
 * returns a read-only store if `dir` can still be listed, else undefined: a cache is never worth
 * failing startup for.
 *
 * @example await openStore(defaultCacheDir(), { onWarning: console.warn }) // CompressionStore
 * @example await openStore("/etc/passwd/x", { onWarning })
 *   // undefined, warns "cache dir /etc/passwd/x is not writable (ENOTDIR): continuing without it"
 */
export async function openStore(
  dir: string,
  options: { onWarning: (message: string) => void },
): Promise<CompressionStore | undefined> {
  const root = resolve(dir);
  const warn = options.onWarning;
  const probe = join(root, `.probe${tempSuffix()}`);
  try {
    await mkdir(root, { recursive: true });
    // mkdir succeeds on an existing read-only directory, so only a real write tells.
    await writeFile(probe, "", { flag: "wx" });
    await unlink(probe);
    return new DirStore(root, true, warn);
  } catch (error) {
    await unlink(probe).catch(ignore);
    const readable = (await readdir(root).catch(() => undefined)) !== undefined;
    const rest = readable ? "using its entries, storing no new ones" : "continuing without it";
    warn(`cache dir ${root} is not writable (${codeOf(error)}): ${rest}`);
    return readable ? new DirStore(root, false, warn) : undefined;
  }
}
