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
 * quality. "held" is every stored variant's bytes; "process RSS" is the whole process.
 */
export function formatSummary(snapshot: Snapshot, rssBytes: number, timing: Timing): string[] {
  const { files, skipped, rawBytes, bytesByEncoding: bytes } = snapshot.stats;
  const held = bytes.identity + bytes.br + bytes.zstd + bytes.gzip;
  const compressedRaw = (encoding: "br" | "zstd" | "gzip") => {
    let raw = 0;
    for (const asset of snapshot.assets.values()) {
      if (asset.variants.some((v) => v.encoding === encoding)) raw += asset.identity.size;
    }
    return raw;
  };
  const codec = (encoding: "br" | "zstd" | "gzip") =>
    `  ${encoding.padEnd(8)} ${formatBytes(bytes[encoding])}${saving(compressedRaw(encoding), bytes[encoding])}`;
  const { maximum } = timing;
  return [
    `  files    ${files} loaded${skipped > 0 ? `, ${skipped} skipped` : ""}, ${formatBytes(rawBytes)} raw`,
    codec("br"),
    codec("zstd"),
    codec("gzip"),
    `  memory   ${formatBytes(held)} held in the snapshot, ${formatBytes(rssBytes)} process RSS`,
    `  ready    in ${seconds(timing.readyMs)}`,
    `  maximum  ${typeof maximum === "number" ? `in ${seconds(maximum)}` : maximum}`,
  ];
}
