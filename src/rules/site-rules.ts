import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HeaderTable, NO_PATH_HEADERS, parseHeaders } from "./headers-file.ts";
import { compileRedirects, type RedirectTable } from "./redirects.ts";

/** The rule files at a site's root: read by the build, never served. */
export const RULE_FILES: ReadonlySet<string> = new Set(["/_headers", "/_redirects"]);

export interface SiteRules {
  readonly headers: HeaderTable | undefined;
  readonly redirects: RedirectTable | undefined;
  /** Lines skipped (valid on another platform, not applicable here). */
  readonly warnings: readonly string[];
}

/**
 * Reads and compiles `_headers` and `_redirects` from `root` (either may be missing).
 *
 * @throws RuleError naming the file and line of a rule that does not parse, or Error when a file
 *   exists but cannot be read
 */
export function readSiteRules(root: string): SiteRules {
  const headersPath = join(root, "_headers");
  const redirectsPath = join(root, "_redirects");
  const headersText = readOptional(headersPath);
  const redirectsText = readOptional(redirectsPath);
  const headers =
    headersText === undefined ? undefined : new HeaderTable(parseHeaders(headersText, headersPath));
  const compiled =
    redirectsText === undefined ? undefined : compileRedirects(redirectsText, redirectsPath);
  return { headers, redirects: compiled?.table, warnings: compiled?.warnings ?? [] };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new Error(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
}

/** What a file's head is made of, before and after the rules. */
export interface HeadInputs {
  readonly contentType: string;
  /** "" for none. */
  readonly cacheControl: string;
  readonly extraHeaders: Readonly<Record<string, string>>;
}

/**
 * Applies `_headers` to one file's head: a rule's Content-Type and Cache-Control replace
 * memserve's, other names replace the configured extra headers of the same name (Vary is merged
 * with the computed one later), and `! name` drops them. A file no rule matches keeps `base`
 * itself, so its extra headers stay the snapshot's one object.
 *
 * @example applyHeaderRules(table, "/docs/index.html", base) // matched against /docs/index.html and /docs/
 */
export function applyHeaderRules(
  table: HeaderTable | undefined,
  urlPath: string,
  base: HeadInputs,
): HeadInputs {
  if (table === undefined) return base;
  const urls = urlPath.endsWith("/index.html")
    ? [urlPath, urlPath.slice(0, -"index.html".length)]
    : [urlPath];
  const rules = table.for(urls);
  if (rules === NO_PATH_HEADERS) return base;
  const { "content-type": contentType, "cache-control": cacheControl, ...set } = rules.set;
  const extraHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(base.extraHeaders)) {
    if (!rules.remove.has(name)) extraHeaders[name] = value;
  }
  Object.assign(extraHeaders, set);
  return {
    contentType: contentType ?? base.contentType,
    cacheControl: rules.remove.has("cache-control") ? "" : (cacheControl ?? base.cacheControl),
    extraHeaders: Object.freeze(extraHeaders),
  };
}

/** Whether `asset`'s head was made from `inputs` (a reload keeps it only then). */
export function sameHead(
  asset: { readonly contentType: string; readonly extraHeaders: Readonly<Record<string, string>> },
  cacheControl: string,
  inputs: HeadInputs,
): boolean {
  return (
    asset.contentType === inputs.contentType &&
    cacheControl === inputs.cacheControl &&
    (asset.extraHeaders === inputs.extraHeaders ||
      JSON.stringify(asset.extraHeaders) === JSON.stringify(inputs.extraHeaders))
  );
}
