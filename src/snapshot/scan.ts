import { type Dirent, constants as fsConstants, type Stats } from "node:fs";
import { readdir, readlink, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";

/** A regular file found under the root, to be served at `urlPath`. */
export interface ScannedFile {
  /** Decoded URL path, segments joined with "/": `/css/app.css`, `/my file#1.txt`. */
  readonly urlPath: string;
  /** Real path inside the root (symlinks already resolved), for reading. */
  readonly absPath: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Which version of the file this is (`versionOf` its stat): any rewrite or replacement changes it. */
  readonly version: string;
}

export interface ScanResult {
  /** Sorted by urlPath (code-unit order) so a build is deterministic. */
  readonly files: readonly ScannedFile[];
  /** One line per skipped entry, sorted: `skipped symlink outside root: a/link -> /etc`. */
  readonly warnings: readonly string[];
  /**
   * The warnings about entries that exist but could not be read (EACCES, EIO...): a reload must not
   * take them for deleted files. Entries gone since they were listed (ENOENT) are not here.
   */
  readonly unreadable: readonly string[];
}

/**
 * Flags for reading a `ScannedFile.absPath`. It is a real path, so its last component is never a
 * link: NOFOLLOW makes a file swapped for a symlink since the scan fail instead of escaping the
 * root, and NONBLOCK makes one swapped for a fifo read as empty instead of hanging the build.
 */
export const READ_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

/**
 * A file version's fingerprint: size, modification and change times (ns resolution where the file
 * system has it) and inode, so an edit in place, a same-size rewrite within one mtime tick (ctime
 * and size catch most) and an atomic rename over it (new inode) all differ.
 */
export function versionOf(stats: Stats): string {
  return `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}`;
}

function scanned(urlPath: string, absPath: string, stats: Stats): ScannedFile {
  return { urlPath, absPath, size: stats.size, mtimeMs: stats.mtimeMs, version: versionOf(stats) };
}

/** Deeper than any real site; stops pathological trees of symlinks to sibling directories. */
const MAX_DEPTH = 64;

interface Walk extends ScanResult {
  readonly rootReal: string;
  readonly files: ScannedFile[];
  readonly warnings: string[];
  readonly unreadable: string[];
}

function cannotRead(walk: Walk, line: string, error: unknown): void {
  walk.warnings.push(line);
  if (errorCode(error) !== "ENOENT") walk.unreadable.push(line);
}

/** Where the walk is: the real directory on disk and the URL path it is served under. */
interface Place {
  readonly dirReal: string;
  /** "" for the root, else "/a/b". */
  readonly urlPrefix: string;
  /** Real paths of the directories from the root down to here: a link to one of them is a loop. */
  readonly ancestors: ReadonlySet<string>;
}

const errorCode = (error: unknown): string =>
  (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);

/**
 * Lists the files to serve under `root`, following symlinks that stay inside it.
 *
 * Skipped silently: dotfiles and dot-directories, except a top-level `.well-known/` (RFC 8615).
 * Skipped with a warning: symlinks leaving the root, broken links, link loops, fifos, sockets,
 * devices, unreadable directories. Whether a file's contents are readable is found out when it is
 * read (`buildSnapshot`).
 *
 * @example await scanDirectory("site") // { files: [{ urlPath: "/index.html", ... }], warnings: [] }
 * @throws Error `no such directory: X`, `not a directory: X`, `cannot read directory X: EACCES`.
 */
export async function scanDirectory(root: string): Promise<ScanResult> {
  const rootReal = await resolveRoot(root);
  let entries: Dirent[];
  try {
    entries = await readdir(rootReal, { withFileTypes: true });
  } catch (error) {
    throw new Error(`cannot read directory ${root}: ${errorCode(error)}`);
  }
  const walk: Walk = { rootReal, files: [], warnings: [], unreadable: [] };
  await visitEntries(
    walk,
    { dirReal: rootReal, urlPrefix: "", ancestors: new Set([rootReal]) },
    entries,
  );
  walk.files.sort((a, b) => (a.urlPath < b.urlPath ? -1 : a.urlPath > b.urlPath ? 1 : 0));
  walk.warnings.sort();
  walk.unreadable.sort();
  return walk;
}

async function resolveRoot(root: string): Promise<string> {
  let stats: Stats;
  try {
    stats = await stat(root);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") throw new Error(`no such directory: ${root}`);
    throw new Error(`cannot read directory ${root}: ${code}`);
  }
  if (!stats.isDirectory()) throw new Error(`not a directory: ${root}`);
  return realpath(root);
}

async function visitEntries(walk: Walk, place: Place, entries: readonly Dirent[]): Promise<void> {
  await Promise.all(entries.map((entry) => visitEntry(walk, place, entry)));
}

async function visitEntry(walk: Walk, place: Place, entry: Dirent): Promise<void> {
  const name = entry.name;
  // Dotfiles are often secrets (`.env`, `.git/`); `.well-known/` is public by definition.
  if (name.startsWith(".") && !(place.urlPrefix === "" && name === ".well-known")) return;
  const urlPath = `${place.urlPrefix}/${name}`;
  const absPath = join(place.dirReal, name);
  if (entry.isSymbolicLink()) return visitLink(walk, place, absPath, urlPath);
  if (entry.isDirectory()) return walkDirectory(walk, place, absPath, urlPath);
  if (entry.isFile()) return addFile(walk, absPath, urlPath);
  walk.warnings.push(`skipped ${specialKind(entry)}: ${urlPath.slice(1)}`);
}

async function walkDirectory(
  walk: Walk,
  parent: Place,
  dirReal: string,
  urlPath: string,
): Promise<void> {
  const rel = urlPath.slice(1);
  if (parent.ancestors.size > MAX_DEPTH) {
    walk.warnings.push(`skipped directory nested deeper than ${MAX_DEPTH}: ${rel}`);
    return;
  }
  let entries: Dirent[];
  try {
    entries = await readdir(dirReal, { withFileTypes: true });
  } catch (error) {
    cannotRead(walk, `cannot read directory ${rel}: ${errorCode(error)}`, error);
    return;
  }
  const ancestors = new Set(parent.ancestors).add(dirReal);
  await visitEntries(walk, { dirReal, urlPrefix: urlPath, ancestors }, entries);
}

/** Follows a link only when its final target is inside the root; served under the link's name. */
async function visitLink(walk: Walk, place: Place, linkPath: string, urlPath: string) {
  const rel = urlPath.slice(1);
  let target: string;
  try {
    target = await realpath(linkPath);
  } catch (error) {
    const text = await readlink(linkPath).catch(() => "?");
    walk.warnings.push(`skipped broken symlink (${errorCode(error)}): ${rel} -> ${text}`);
    return;
  }
  // Compare real paths so `../` hops and links through other links cannot escape.
  if (target !== walk.rootReal && !target.startsWith(walk.rootReal + sep)) {
    walk.warnings.push(`skipped symlink outside root: ${rel} -> ${target}`);
    return;
  }
  let stats: Stats;
  try {
    stats = await stat(target);
  } catch (error) {
    cannotRead(walk, `cannot read ${rel}: ${errorCode(error)}`, error);
    return;
  }
  if (stats.isDirectory()) {
    // A link up the real tree (`a/up -> ..`) or back to a directory on the current chain
    // (`x/l -> y`, `y/l -> x`) would recurse forever.
    const isUp = place.dirReal === target || place.dirReal.startsWith(target + sep);
    if (isUp || place.ancestors.has(target)) {
      walk.warnings.push(`skipped symlink loop: ${rel} -> ${target}`);
      return;
    }
    return walkDirectory(walk, place, target, urlPath);
  }
  if (stats.isFile()) {
    walk.files.push(scanned(urlPath, target, stats));
    return;
  }
  walk.warnings.push(`skipped ${specialKind(stats)}: ${rel}`);
}

async function addFile(walk: Walk, absPath: string, urlPath: string): Promise<void> {
  try {
    const stats = await stat(absPath);
    walk.files.push(scanned(urlPath, absPath, stats));
  } catch (error) {
    // Deleted since readdir, or a name that is not valid UTF-8 and so cannot be opened as decoded.
    cannotRead(walk, `cannot read ${urlPath.slice(1)}: ${errorCode(error)}`, error);
  }
}

function specialKind(entry: Dirent | Stats): string {
  if (entry.isFIFO()) return "fifo";
  if (entry.isSocket()) return "socket";
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return "device";
  return "special file";
}
