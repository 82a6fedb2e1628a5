import type { ContentCoding } from "./types.ts";

/**
 * A strong entity tag (RFC 9110 §8.8.3) for one variant's bytes: 64 bits of wyhash as 16 hex
 * digits, suffixed with the coding so two variants never share a tag even if their bytes were equal
 * (each is a different representation, §8.8.3.3).
 *
 * wyhash rather than SHA-1: measured on a 7 MB buffer here, `Bun.hash.wyhash` took 0.29 ms and
 * node:crypto SHA-1 4.1 ms. An ETag needs stability and collision resistance across one file's
 * versions, not cryptographic strength. Seed fixed at 0 so tags survive restarts; a Bun upgrade that
 * changed wyhash would only cost clients one revalidation.
 *
 * @example strongEtag(bytes, "identity") // "\"3f9a1c2b0d4e5f60\""
 * @example strongEtag(brBytes, "br")     // "\"a1b2c3d4e5f60718-br\""
 */
export function strongEtag(bytes: Uint8Array, encoding: ContentCoding): string {
  const hash = Bun.hash.wyhash(bytes, 0n).toString(16).padStart(16, "0");
  return encoding === "identity" ? `"${hash}"` : `"${hash}-${encoding}"`;
}
