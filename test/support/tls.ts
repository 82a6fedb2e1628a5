// The `tls` test engine: memserve's HTTP/1.1 engine behind a self-signed certificate (openssl from
// Debian), and the raw clients connecting to its ports with TLS.
import { mkdtempSync, readFileSync } from "node:fs";
import { type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { makeCertificate } from "../../bench/certificate.ts";
import type { TlsMaterial } from "../../src/server/engine.ts";

export { makeCertificate };

let material: (TlsMaterial & { readonly certPath: string; readonly keyPath: string }) | undefined;

/**
 * A key and a self-signed certificate for localhost and 127.0.0.1, made once per test process
 * (`files` gives their paths for the CLI). Clients in this process then accept it: fetch() by
 * NODE_TLS_REJECT_UNAUTHORIZED, the raw clients by `connectTo`.
 */
export function testCertificate(): TlsMaterial & {
  readonly certPath: string;
  readonly keyPath: string;
} {
  if (material !== undefined) return material;
  const dir = mkdtempSync(join(tmpdir(), "memserve-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  makeCertificate(certPath, keyPath, "localhost");
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  material = {
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    certPath,
    keyPath,
  };
  return material;
}

const tlsPorts = new Set<number>();

/**
 * Marks `port` as served with TLS: `connectTo` speaks TLS to it until the returned function is
 * called. Unmark when the server stops: the kernel hands the port to later servers, and a stale
 * mark made a later plain server look dead (a whole suite of 3-second timeouts).
 */
export function markTls(port: number): () => void {
  tlsPorts.add(port);
  return () => tlsPorts.delete(port);
}

/** `server` with its port marked as TLS until it stops. */
export function tlsUntilStopped<
  T extends { readonly port: number; stop(timeoutMs: number): Promise<void> },
>(server: T): T {
  const unmark = markTls(server.port);
  return {
    ...server,
    async stop(timeoutMs: number) {
      await server.stop(timeoutMs);
      unmark();
    },
  };
}

/** A client socket to `port`: TLS (any certificate) where `markTls` said so, else plain TCP. */
export function connectTo(host: string, port: number): Socket {
  if (!tlsPorts.has(port)) return tcpConnect({ host, port });
  return tlsConnect({ host, port, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
}
