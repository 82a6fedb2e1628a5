// A worker process of `--workers N` and the builder process run the CLI's entry point
// (cli/run.ts) with their setup as JSON (encodeSetup) in one of these variables. A module of its own, with no
// imports, so the entry point can read them before it loads any role's modules.

/** Set to the JSON of a `WorkerSetup` in a worker process. */
export const WORKER_ENV = "MEMSERVE_INTERNAL_WORKER";

/** Set to the JSON of a `BuilderJob` in a builder process. */
export const BUILDER_ENV = "MEMSERVE_INTERNAL_BUILDER";

/**
 * The JSON of a setup, for one of these variables. Plain JSON turns Infinity (an option's "no
 * limit", as `--sendfile-max 0`) into null, which a worker would read as "use the default".
 */
export function encodeSetup(setup: unknown): string {
  return JSON.stringify(setup, (_key, value) =>
    typeof value === "number" && !Number.isFinite(value) ? { nonFinite: String(value) } : value,
  );
}

/** The setup `encodeSetup` wrote. */
export function decodeSetup<T>(text: string): T {
  return JSON.parse(text, (_key, value) => {
    const nonFinite = (value as { nonFinite?: unknown } | null)?.nonFinite;
    return typeof nonFinite === "string" && Object.keys(value).length === 1
      ? Number(nonFinite)
      : value;
  });
}
