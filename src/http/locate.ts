import type { Asset, Snapshot } from "../snapshot/types.ts";
import { encodePath } from "./path.ts";

export interface LocateOptions {
  /** `/about` serves `about.html`, and `/about.html` redirects to `/about`. */
  readonly cleanUrls: boolean;
  /**
   * `always`: a page's URL ends with `/` (others redirect there); `never`: it does not;
   * undefined: a directory's does (`/docs` redirects to `/docs/`), a clean URL's does not.
   */
  readonly trailingSlash: "always" | "never" | undefined;
}

/** What a decoded path names: a file, or its canonical URL (relative, same origin). */
export type Located =
  | { readonly kind: "asset"; readonly asset: Asset }
  | { readonly kind: "redirect"; readonly location: string };

/**
 * Finds the file a decoded path names: the file itself, `dir/index.html` for `dir/`, with
 * `cleanUrls` `name.html` for `name`; or, when the path is not the file's canonical URL, a
 * redirect to it. The Location is relative to the request (`./docs/`, `../about`), so it can
 * never be read as another origin (`//evil.com`). Undefined when no file is there.
 *
 * @example locate(snapshot, "/docs", opts)        // { kind: "redirect", location: "./docs/" }
 * @example locate(snapshot, "/about", { cleanUrls: true, trailingSlash: undefined }) // about.html
 */
export function locate(
  snapshot: Snapshot,
  path: string,
  options: LocateOptions,
): Located | undefined {
  const { assets } = snapshot;
  const { cleanUrls, trailingSlash } = options;
  const name = lastSegment(path);
  if (path.endsWith("/")) {
    const index = assets.get(`${path}index.html`);
    if (path === "/") return found(index);
    const base = path.slice(0, -1);
    if (index !== undefined) {
      return trailingSlash === "never" ? moved(`../${encodePath(name)}`) : found(index);
    }
    const page = cleanUrls ? assets.get(`${base}.html`) : undefined;
    if (page === undefined) return undefined;
    return trailingSlash === "always" ? found(page) : moved(`../${encodePath(lastSegment(base))}`);
  }
  const direct = assets.get(path);
  if (direct !== undefined) {
    if (!cleanUrls || !name.endsWith(".html")) return found(direct);
    const stem = name.slice(0, -".html".length);
    if (stem === "index") {
      const directory = lastSegment(path.slice(0, -name.length));
      const never = trailingSlash === "never" && directory !== "";
      return moved(never ? `../${encodePath(directory)}` : "./");
    }
    return moved(trailingSlash === "always" ? `./${encodePath(stem)}/` : `./${encodePath(stem)}`);
  }
  const index = assets.get(`${path}/index.html`);
  if (index !== undefined) {
    return trailingSlash === "never" ? found(index) : moved(`./${encodePath(name)}/`);
  }
  const page = cleanUrls ? assets.get(`${path}.html`) : undefined;
  if (page === undefined) return undefined;
  return trailingSlash === "always" ? moved(`./${encodePath(name)}/`) : found(page);
}

function lastSegment(path: string): string {
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

const found = (asset: Asset | undefined): Located | undefined =>
  asset === undefined ? undefined : { kind: "asset", asset };

const moved = (location: string): Located => ({ kind: "redirect", location });
