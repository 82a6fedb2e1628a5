// The process entry point (bin/memserve.js runs this under Bun); main() holds the logic. A worker
// process of `--workers N` runs the same file with its setup in the environment.

import { runWorker, WORKER_ENV } from "../supervise/worker-process.ts";
import { main } from "./main.ts";

const worker = process.env[WORKER_ENV];
if (worker !== undefined) {
  runWorker(JSON.parse(worker));
} else {
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
