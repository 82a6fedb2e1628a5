// Installs the benchmark's system tools from Debian when they are missing, so a fresh machine
// needs nothing but `npm ci` and root.
import { spawnSync } from "node:child_process";
import { BROTLI_STATIC_PACKAGE, findBrotliStaticModule } from "./nginx.ts";

const has = (command: string): boolean => Bun.which(command) !== null;

/** Debian packages still needed: wrk always, nginx and its brotli_static module when `nginx`. */
export function missingPackages(needNginx: boolean): string[] {
  const missing: string[] = [];
  if (!has("taskset")) missing.push("util-linux");
  if (!has("wrk")) missing.push("wrk");
  if (needNginx && !has("nginx")) missing.push("nginx");
  if (needNginx && findBrotliStaticModule() === undefined) missing.push(BROTLI_STATIC_PACKAGE);
  return missing;
}

function run(argv: readonly string[]): number {
  const [command = "", ...args] = argv;
  const result = spawnSync(command, args, {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status ?? 1;
}

/**
 * apt-get installs whatever is missing. apt-cache is asked first, so a package name that does not
 * exist on this release fails with that reason instead of an install error.
 */
export function ensurePackages(needNginx: boolean, log: (line: string) => void): void {
  const missing = missingPackages(needNginx);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(", ")}: run as root, or apt-get install them`);
  }
  log(`installing ${missing.join(", ")} with apt-get`);
  if (run(["apt-get", "update", "-qq"]) !== 0) throw new Error("apt-get update failed");
  for (const name of missing) {
    const known = spawnSync("apt-cache", ["show", name], { stdio: "ignore" }).status === 0;
    if (!known) throw new Error(`apt has no package "${name}" on this release`);
  }
  const install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing];
  if (run(install) !== 0) throw new Error(`${install.join(" ")} failed`);
  const still = missingPackages(needNginx);
  if (still.length > 0) throw new Error(`still missing after install: ${still.join(", ")}`);
}
