#!/usr/bin/env node
// memserve runs on Bun, which `npm ci` installs as a dependency. This shim lets `npx memserve` work
// from any shell (no global bun needed): it runs the CLI under the pinned bun, relays SIGINT,
// SIGTERM and SIGHUP to it, and exits with its status. Bun stays in this process group, so a signal
// to the group (Ctrl-C) reaches it twice, directly and relayed: memserve counts a signal repeated
// within a second once.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const bun = process.versions.bun ? process.execPath : require.resolve("bun/bin/bun.exe");
const cli = fileURLToPath(new URL("../src/cli/run.ts", import.meta.url));
const child = spawn(bun, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1));
});
watchLauncher(() => {
  console.error("memserve: the process that started memserve is gone; stopping");
  child.kill("SIGTERM");
});

/**
 * The server must not outlive whatever started it. npm and npx run a script or bin through
 * `sh -c`: on SIGTERM npm kills that shell and exits, on SIGHUP npm dies and the shell lives on.
 * Either way this shim would be left serving without them. So it watches its parent and, when the
 * parent is such a `sh -c`, the parent's parent too, and has the server drain and exit (once) when
 * either is gone. Parents are polled: a reparented process gets a new ppid (proc(5) stat field 4).
 */
function watchLauncher(onGone) {
  const parent = process.ppid;
  if (parent <= 1) return; // started by init (systemd, a container): nothing to watch
  const grandparent = isShellCommand(parent) ? parentOf(parent) : undefined;
  const timer = setInterval(() => {
    const gone = process.ppid !== parent || (grandparent > 1 && parentOf(parent) !== grandparent);
    if (!gone) return;
    clearInterval(timer);
    onGone();
  }, 500);
  timer.unref();
}

/** proc(5): the ppid is the 2nd field after the command name in parentheses (which may hold spaces). */
function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined; // gone, or no /proc (not Linux)
  }
}

/** Whether `pid` runs `<shell> -c <command>` (how npm runs scripts and bins). */
function isShellCommand(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[1] === "-c";
  } catch {
    return false;
  }
}
