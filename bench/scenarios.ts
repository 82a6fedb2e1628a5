// The request mixes the benchmark runs, each with the answer a correct server must give, checked
// before load so a fast wrong answer (a 404, or brotli to a client that did not ask) is never
// reported as a win.
import { FIXED_FILES, MEDIA_SIZES_K, mediaPath } from "./corpus.ts";
import { RULES_REQUESTS } from "./rules-corpus.ts";
import type { ServerName } from "./servers.ts";

/** What browsers send today; wrk sends no Accept-Encoding unless given one. */
export const BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd";

export interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly connections: number;
  /** Request headers besides Host; If-None-Match is added at run time for `revalidate`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly expectStatus: 200 | 301 | 304;
  /** For a redirect, the Location it must give. */
  readonly expectLocation?: string;
  /**
   * Acceptable Content-Encoding values ("" = identity). memserve picks the smallest variant, so
   * for text it may answer zstd where the others answer br; the report shows the bytes sent.
   */
  readonly expectCodings: readonly string[];
  /** Send If-None-Match with the ETag the server gave for the same request. */
  readonly revalidate?: true;
  /** Run only against these servers (the rules scenarios need the rules site). */
  readonly only?: readonly ServerName[];
}

const ae = { "Accept-Encoding": BROWSER_ACCEPT_ENCODING };
const compressed = ["br", "zstd"] as const;
const { tinySvg, css, png, bigJpg } = FIXED_FILES;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "tiny-svg",
    path: `/${tinySvg.path}`,
    connections: 64,
    headers: ae,
    expectStatus: 200,
    expectCodings: compressed,
  },
  {
    name: "css-150k",
    path: `/${css.path}`,
    connections: 64,
    headers: ae,
    expectStatus: 200,
    expectCodings: compressed,
  },
  {
    name: "png-300k",
    path: `/${png.path}`,
    connections: 64,
    headers: ae,
    expectStatus: 200,
    expectCodings: [""],
  },
  {
    name: "jpg-7m",
    path: `/${bigJpg.path}`,
    connections: 256,
    headers: ae,
    expectStatus: 200,
    expectCodings: [""],
  },
  {
    name: "revalidate-304",
    path: `/${css.path}`,
    connections: 64,
    headers: ae,
    expectStatus: 304,
    expectCodings: compressed,
    revalidate: true,
  },
  // No Accept-Encoding at all: the server must send the file as is.
  {
    name: "identity",
    path: `/${css.path}`,
    connections: 64,
    headers: {},
    expectStatus: 200,
    expectCodings: [""],
  },
  // Either side of the sendfile threshold: compare memserve-write with memserve-sendfile.
  ...MEDIA_SIZES_K.map(
    (k): Scenario => ({
      name: `media-${k}k`,
      path: `/${mediaPath(k)}`,
      connections: 64,
      headers: ae,
      expectStatus: 200,
      expectCodings: [""],
    }),
  ),
  // Answered by the rules of the rules site: an exact redirect and a splat rewrite to a file.
  {
    name: "redirect-exact",
    path: RULES_REQUESTS.redirect.path,
    connections: 64,
    headers: ae,
    expectStatus: 301,
    expectLocation: RULES_REQUESTS.redirect.location,
    expectCodings: [""],
    only: ["memserve-rules"],
  },
  {
    name: "rewrite-splat",
    path: RULES_REQUESTS.rewrite.path,
    connections: 64,
    headers: ae,
    expectStatus: 200,
    expectCodings: compressed,
    only: ["memserve-rules"],
  },
  {
    name: "tiny-svg-1000",
    path: `/${tinySvg.path}`,
    connections: 1000,
    headers: ae,
    expectStatus: 200,
    expectCodings: compressed,
  },
];

/** Whether `server` runs `scenario`. */
export const runsOn = (scenario: Scenario, server: ServerName): boolean =>
  scenario.only === undefined || scenario.only.includes(server);

/** Picks scenarios by name, in the order given (default: all but media-*); throws on an unknown name. */
export function selectScenarios(names: readonly string[] | undefined): Scenario[] {
  if (names === undefined) return SCENARIOS.filter((s) => !s.name.startsWith("media-"));
  return names.map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (found === undefined) {
      throw new Error(
        `unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
      );
    }
    return found;
  });
}
