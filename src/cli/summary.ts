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

/**
 * The lines printed after the URL line: what was loaded and what it costs.
 * "held" is every stored variant's bytes; "rss" is the whole process.
 */
export function formatSummary(snapshot: Snapshot, rssBytes: number): string[] {
  const { files, skipped, rawBytes, bytesByEncoding: bytes, buildMs } = snapshot.stats;
  const held = bytes.identity + bytes.br + bytes.zstd + bytes.gzip;
  const compressedRaw = (encoding: "br" | "zstd" | "gzip") => {
    let raw = 0;
    for (const asset of snapshot.assets.values()) {
      if (asset.variants.some((v) => v.encoding === encoding)) raw += asset.identity.size;
    }
    return raw;
  };
  const codec = (encoding: "br" | "zstd" | "gzip") =>
    `${encoding} ${formatBytes(bytes[encoding])}${saving(compressedRaw(encoding), bytes[encoding])}`;
  return [
    `  files   ${files} loaded${skipped > 0 ? `, ${skipped} skipped` : ""}, ${formatBytes(rawBytes)} raw`,
    `  encoded ${codec("br")}, ${codec("zstd")}, ${codec("gzip")}`,
    `  memory  ${formatBytes(held)} held in the snapshot, ${formatBytes(rssBytes)} process RSS`,
    `  ready   in ${(buildMs / 1000).toFixed(2)} s`,
  ];
}
