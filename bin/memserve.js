#!/usr/bin/env node
// memserve runs on Bun, which `npm ci` installs as a dependency. This shim lets `npx memserve` work
// from any shell (no global bun needed): it runs the CLI under the pinned bun and relays signals and
// the exit status, so SIGTERM to this process stops the server cleanly.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const bun = process.versions.bun ? process.execPath : require.resolve("bun/bin/bun.exe");
const cli = fileURLToPath(new URL("../src/cli/run.ts", import.meta.url));
// Its own process group, so a terminal's Ctrl-C reaches it once (relayed below), not twice: a second
// SIGINT means "exit now" to the server.
const child = spawn(bun, [cli, ...process.argv.slice(2)], { stdio: "inherit", detached: true });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1));
});
