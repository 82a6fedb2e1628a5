// A self-signed certificate with openssl (Debian's), for the TLS benchmark and the TLS tests.
import { spawnSync } from "node:child_process";

/** Writes a P-256 key and a certificate for `name`, localhost and 127.0.0.1, valid for two days. */
export function makeCertificate(certPath: string, keyPath: string, name: string): void {
  const made = spawnSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", `/CN=${name}`],
    ...["-addext", `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`],
  ]);
  if (made.status !== 0) {
    throw new Error(`openssl req failed: ${made.stderr?.toString() ?? made.error}`);
  }
}
