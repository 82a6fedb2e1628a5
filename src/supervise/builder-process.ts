import { lowerPriority } from "./builder.ts";
import { type BuilderJob, type BuilderMessage, runBuilderJob } from "./builder-job.ts";

/**
 * A builder process: runs the job its supervisor put in its environment, reporting over IPC, and
 * exits. It stops with its supervisor: a builder has nothing to do for a server that is gone.
 */
export function runBuilderProcess(job: BuilderJob): void {
  const send = (message: BuilderMessage) => process.send?.(message);
  process.on("disconnect", () => process.exit(1));
  runBuilderJob(job, send, lowerPriority).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`memserve: ${(error as Error).message ?? error}`);
      process.exit(1);
    },
  );
}
