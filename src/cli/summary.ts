import type { Snapshot } from "../snapshot/types.ts";

/** `1536` -> `"1.5 KiB"`: binary units, one decimal, for the startup summary. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function saving(raw: number, compressed: number): string {
  return raw === 0 ? "" : ` (-${Math.round((1 - compressed / raw) * 100)}%)`;
}

/** Time to ready and, when known, to maximum quality, in ms since the process started. */
export interface Timing {
  readonly readyMs: number;
  /** A number once reached; otherwise why not (yet): `compressing in the background`. */
  readonly maximum: number | string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * The startup summary table printed after the URL line: what was loaded, per coding its bytes and
 * saving, what it costs in memory, and how long it took to become ready and to reach maximum
 * quality. "held" is every stored variant's bytes; "process RSS" is the whole process. Given a
 * `memory` report, the memory line is replaced by `formatMemory`'s lines, what is really held.
 */
export function formatSummary(
  snapshot: Snapshot,
  rssBytes: number,
  timing: Timing,
  memory?: MemoryReport,
): string[] {
  const { files, skipped, rawBytes, bytesByEncoding: bytes } = snapshot.stats;
  const held = bytes.identity + bytes.br + bytes.zstd + bytes.gzip;
  const compressedRaw = (encoding: "br" | "zstd" | "gzip") =>
    snapshot.stats.rawBytesCoded[encoding];
  const codec = (encoding: "br" | "zstd" | "gzip") =>
    `  ${encoding.padEnd(8)} ${formatBytes(bytes[encoding])}${saving(compressedRaw(encoding), bytes[encoding])}`;
  const { maximum } = timing;
  return [
    `  files    ${files} loaded${skipped > 0 ? `, ${skipped} skipped` : ""}, ${formatBytes(rawBytes)} raw`,
    codec("br"),
    codec("zstd"),
    codec("gzip"),
    ...(snapshot.stats.filesWithDeltas > 0
      ? [
          `  deltas   ${formatBytes(snapshot.stats.deltaBytes)} for ${snapshot.stats.filesWithDeltas} files, against their earlier versions (dcb, dcz)`,
        ]
      : []),
    ...(memory === undefined
      ? [
          `  memory   ${formatBytes(held)} held in the snapshot, ${formatBytes(rssBytes)} process RSS`,
        ]
      : formatMemory(memory)),
    `  ready    in ${seconds(timing.readyMs)}`,
    `  maximum  ${typeof maximum === "number" ? `in ${seconds(maximum)}` : maximum}`,
  ];
}

/** One memserve process's memory, in bytes (from /proc/<pid>/status and smaps_rollup). */
export interface ProcessMemoryLine {
  readonly role: "server" | "worker" | "builder";
  /** VmRSS: includes the pages of the image it maps, which every process shares. */
  readonly rss: number;
  /** Pss from smaps_rollup: shared pages divided among the processes; undefined if unreadable. */
  readonly pss: number | undefined;
  /** RssAnon: the process's own memory (JS heap, index, pages copied on write). */
  readonly anonymous: number;
}

/** The image being served: content bytes by part, and what its directory holds on tmpfs. */
export interface ImageMemory {
  /** The runtime directory, e.g. `/dev/shm/memserve-1234`. */
  readonly dir: string;
  readonly bodies: number;
  readonly heads: number;
  readonly index: number;
  /** Allocated bytes of every file in `dir` (st_blocks × 512): images not yet removed included. */
  readonly allocated: number;
}

/** What memserve holds: the image on tmpfs (undefined when there is none) and every process. */
export interface MemoryReport {
  readonly image: ImageMemory | undefined;
  readonly processes: readonly ProcessMemoryLine[];
}

/**
 * Table lines saying where the memory is: the image on tmpfs (counted once, however many
 * processes map it), each process, and the total that counts: tmpfs plus every process's
 * anonymous memory (RSS and PSS include the shared image, so they are shown but not added).
 *
 * @example
 * formatMemory({
 *   image: { dir: "/dev/shm/memserve-1", bodies: 66_375_000, heads: 6_187_000, index: 1_259_000, allocated: 74_030_000 },
 *   processes: [{ role: "server", rss: 43_201_000, pss: 12_583_000, anonymous: 36_805_000 }],
 * })
 * // -> [
 * //   "  memory   63.3 MiB bodies + 5.9 MiB heads + 1.2 MiB index in /dev/shm/memserve-1 (70.6 MiB allocated)",
 * //   "  process  server 41.2 MiB RSS (PSS 12.0 MiB, anonymous 35.1 MiB)",
 * //   "  total    105.7 MiB: 70.6 MiB on tmpfs + 35.1 MiB anonymous in 1 process",
 * // ]
 */
export function formatMemory(report: MemoryReport): string[] {
  const lines: string[] = [];
  const { image, processes } = report;
  if (image !== undefined) {
    const parts = `${formatBytes(image.bodies)} bodies + ${formatBytes(image.heads)} heads + ${formatBytes(image.index)} index`;
    lines.push(`  memory   ${parts} in ${image.dir} (${formatBytes(image.allocated)} allocated)`);
  }
  processes.forEach((p, i) => {
    const pss = p.pss === undefined ? "" : `PSS ${formatBytes(p.pss)}, `;
    const line = `${p.role} ${formatBytes(p.rss)} RSS (${pss}anonymous ${formatBytes(p.anonymous)})`;
    lines.push(`  ${i === 0 ? "process " : "        "} ${line}`);
  });
  const anonymous = processes.reduce((sum, p) => sum + p.anonymous, 0);
  const tmpfs = image?.allocated ?? 0;
  const count = `${processes.length} process${processes.length === 1 ? "" : "es"}`;
  lines.push(
    `  total    ${formatBytes(tmpfs + anonymous)}: ${formatBytes(tmpfs)} on tmpfs + ${formatBytes(anonymous)} anonymous in ${count}`,
  );
  return lines;
}
