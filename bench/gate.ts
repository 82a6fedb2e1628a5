// The correctness gate: one request over a raw socket, exactly as wrk would send it, and a check
// of the answer. Raw because fetch() decodes bodies and adds headers, hiding what the server sent.
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Scenario } from "./scenarios.ts";

export interface Answer {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: ReadonlyMap<string, string>;
  /** Body bytes on the wire (Content-Length when given). */
  readonly bodyBytes: number;
}

/** Splits a raw HTTP/1.1 response into status, headers and body size. */
export function parseRawResponse(raw: Buffer): Answer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`no complete response head in ${raw.length} bytes`);
  const [statusLine = "", ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = headers.get("content-length");
  return {
    status,
    headers,
    bodyBytes: length === undefined ? raw.length - end - 4 : Number(length),
  };
}

/** GET `path` from `baseUrl` with these headers on a fresh connection; rejects after `timeoutMs`. */
export function rawGet(
  baseUrl: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs = 15_000,
): Promise<Answer> {
  const url = new URL(baseUrl);
  const head = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  head.push("Connection: close", "", "");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const target = { host: url.hostname, port: Number(url.port) };
    const socket =
      url.protocol === "https:"
        ? tlsConnect({ ...target, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] })
        : connect(target);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    socket.on("connect", () => socket.write(head.join("\r\n")));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      try {
        resolve(parseRawResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

export type GateResult =
  | {
      readonly ok: true;
      readonly headers: Readonly<Record<string, string>>;
      readonly answer: string;
    }
  | { readonly ok: false; readonly problem: string };

const describe = (a: Answer): string => {
  const location = a.headers.get("location");
  const coding = a.headers.get("content-encoding") ?? "identity";
  return `${a.status} ${location === undefined ? coding : `-> ${location}`} ${a.bodyBytes} B`;
};

/**
 * Checks that the server answers the scenario correctly and returns the exact headers wrk must send
 * (for `revalidate`, If-None-Match with the ETag this server gave for the same request).
 */
export async function checkScenario(baseUrl: string, scenario: Scenario): Promise<GateResult> {
  let headers: Record<string, string> = { ...scenario.headers };
  let first = await rawGet(baseUrl, scenario.path, headers);
  if (scenario.revalidate) {
    const etag = first.headers.get("etag");
    if (first.status !== 200 || etag === undefined) {
      return { ok: false, problem: `expected 200 with an ETag first, got ${describe(first)}` };
    }
    headers = { ...headers, "If-None-Match": etag };
    first = await rawGet(baseUrl, scenario.path, headers);
  }
  const coding = first.headers.get("content-encoding") ?? "";
  if (first.status !== scenario.expectStatus) {
    return { ok: false, problem: `expected ${scenario.expectStatus}, got ${describe(first)}` };
  }
  const location = first.headers.get("location");
  if (scenario.expectLocation !== undefined && location !== scenario.expectLocation) {
    return {
      ok: false,
      problem: `expected Location ${scenario.expectLocation}, got ${location ?? "none"}`,
    };
  }
  if (scenario.expectStatus === 200 && !scenario.expectCodings.includes(coding)) {
    const wanted = scenario.expectCodings.map((c) => c || "identity").join(" or ");
    return { ok: false, problem: `expected ${wanted}, got ${describe(first)}` };
  }
  return { ok: true, headers, answer: describe(first) };
}
