import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { TlsMaterial } from "./engine.ts";

/** Where the PEM files are (`--tls-cert`, `--tls-key`, `--tls-ca`). */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

/**
 * Reads the PEM files and checks them as OpenSSL will use them: a certificate, a key that belongs
 * to it, CAs that parse. Each time they are read anew, so a renewed certificate is picked up.
 *
 * @throws Error naming the file, or what is wrong with the pair
 */
export function loadTls(files: TlsFiles): TlsMaterial {
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(
        `cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
  };
  const material = {
    cert: read("--tls-cert", files.cert),
    key: read("--tls-key", files.key),
    ...(files.ca === undefined ? {} : { ca: read("--tls-ca", files.ca) }),
  };
  try {
    createSecureContext(material);
  } catch (error) {
    throw new Error(
      `unusable certificate ${files.cert} with key ${files.key}: ${(error as Error).message}`,
    );
  }
  return material;
}

/** `CN=example.com, valid until Dec  4 02:00:00 2027 GMT`, for the log. */
export function describeCertificate(material: TlsMaterial): string {
  try {
    const certificate = new X509Certificate(material.cert);
    return `${certificate.subject.replace(/\n/g, ", ")}, valid until ${certificate.validTo}`;
  } catch {
    return "a certificate memserve cannot describe";
  }
}
