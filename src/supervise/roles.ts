// A worker process of `--workers N` and the builder process run the CLI's entry point
// (cli/run.ts) with their setup as JSON in one of these variables. A module of its own, with no
// imports, so the entry point can read them before it loads any role's modules.

/** Set to the JSON of a `WorkerSetup` in a worker process. */
export const WORKER_ENV = "MEMSERVE_INTERNAL_WORKER";

/** Set to the JSON of a `BuilderJob` in a builder process. */
export const BUILDER_ENV = "MEMSERVE_INTERNAL_BUILDER";
