// The process entry point (bin/memserve.js runs this under Bun); main() holds the logic. A worker
// process of `--workers N`, and the builder process, run the same file with their setup in the
// environment. Each role imports only its own modules: the builder's start is on the path to a
// cold start's first answer, and loading the server and CLI too made it later.

import { BUILDER_ENV, decodeSetup, WORKER_ENV } from "../supervise/roles.ts";

const worker = process.env[WORKER_ENV];
const builder = process.env[BUILDER_ENV];
if (worker !== undefined) {
  const { runWorker } = await import("../supervise/worker-process.ts");
  runWorker(decodeSetup(worker));
} else if (builder !== undefined) {
  const { runBuilderProcess } = await import("../supervise/builder-process.ts");
  runBuilderProcess(decodeSetup(builder));
} else {
  const { main } = await import("./main.ts");
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
