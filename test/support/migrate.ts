import { accessSync, constants, readFileSync, writeFileSync } from "node:fs";

// A connection still in a listener's accept queue when it closes is reset by the kernel, unless
// net.ipv4.tcp_migrate_req (Linux 5.14+) hands it to another listener of the same port.
const MIGRATE = "/proc/sys/net/ipv4/tcp_migrate_req";

/** Whether tcp_migrate_req is on, or this process may turn it on (root). */
export const canMigrate = (() => {
  try {
    if (readFileSync(MIGRATE, "utf8").trim() === "1") return true;
    accessSync(MIGRATE, constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

/** Runs `run` with tcp_migrate_req=1, putting the previous value back after. */
export async function withMigration<T>(run: () => Promise<T>): Promise<T> {
  const before = readFileSync(MIGRATE, "utf8").trim();
  if (before !== "1") writeFileSync(MIGRATE, "1");
  try {
    return await run();
  } finally {
    if (before !== "1") writeFileSync(MIGRATE, before);
  }
}
