// The few media types the corpus uses, for the floor server and the sidecar writer. A fixed table
// keeps the bench independent of memserve's own mime code, which is one of the things measured.
import { extname } from "node:path";

const TYPES: Readonly<Record<string, readonly [type: string, compressible: boolean]>> = {
  ".html": ["text/html; charset=utf-8", true],
  ".css": ["text/css; charset=utf-8", true],
  ".js": ["text/javascript; charset=utf-8", true],
  ".json": ["application/json", true],
  ".svg": ["image/svg+xml", true],
  ".txt": ["text/plain; charset=utf-8", true],
  ".xml": ["application/xml", true],
  ".woff2": ["font/woff2", false],
  ".png": ["image/png", false],
  ".jpg": ["image/jpeg", false],
};

/** `css/main.css` -> `text/css; charset=utf-8`; unknown extensions -> `application/octet-stream`. */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()]?.[0] ?? "application/octet-stream";
}

/** Whether a file is text worth precompressing: `a.js` -> true, `a.png` -> false. */
export function isCompressible(path: string): boolean {
  return TYPES[extname(path).toLowerCase()]?.[1] ?? false;
}

/**
 * memserve's rule for keeping a compressed variant (at least 10% and 32 bytes saved). The sidecar
 * writer applies it too, so nginx gets exactly the variants memserve keeps and both serve the same
 * bytes for the same request.
 *
 * @example isWorthKeeping(1000, 900) // true
 */
export function isWorthKeeping(raw: number, compressed: number): boolean {
  const saved = raw - compressed;
  return saved >= 32 && saved * 10 >= raw;
}

/** `.br`/`.gz` files next to a file of the same name minus the suffix are sidecars, not pages. */
export function isSidecarPath(path: string, exists: (primary: string) => boolean): boolean {
  const match = /^(.+)\.(br|gz)$/.exec(path);
  return match?.[1] !== undefined && exists(match[1]);
}
