// The process entry point (bin/memserve.js runs this under Bun); main() holds the logic. A worker
// process of `--workers N`, and the builder process, run the same file with their setup in the
// environment.

import { BUILDER_ENV } from "../supervise/builder.ts";
import { runBuilderProcess } from "../supervise/builder-process.ts";
import { runWorker, WORKER_ENV } from "../supervise/worker-process.ts";
import { main } from "./main.ts";

const worker = process.env[WORKER_ENV];
const builder = process.env[BUILDER_ENV];
if (worker !== undefined) {
  runWorker(JSON.parse(worker));
} else if (builder !== undefined) {
  runBuilderProcess(JSON.parse(builder));
} else {
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
