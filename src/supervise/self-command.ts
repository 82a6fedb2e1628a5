import { join } from "node:path";

/** The CLI's entry point, beside this module's directory. */
const RUN = join(import.meta.dir, "..", "cli", "run.ts");

/**
 * How this process starts another memserve process (a worker, the builder): the same Bun running
 * the same entry point; or, in the single executable (`npm run build:bin`, whose modules live in
 * Bun's embedded `/$bunfs/` file system), the executable alone, which runs its own entry point.
 */
export function selfCommand(): string[] {
  const compiled = import.meta.dir.startsWith("/$bunfs/") || import.meta.dir.includes("~BUN");
  return compiled ? [process.execPath] : [process.execPath, RUN];
}
