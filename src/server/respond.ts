// Writing one response of the HTTP/1.1 engine, and counting and logging it.
import type { Outcome } from "../http/decide.ts";
import type { ContentCoding } from "../snapshot/types.ts";
import type { AccessLog } from "./access-log.ts";
import { bySendfile, finish, type Sock, send, sendBody } from "./connection.ts";
import type { ResponseCounters } from "./counters.ts";
import type { RequestHead } from "./http1-parse.ts";
import { refreshDate, serializeOutcome, wireOf } from "./wire.ts";

/** Where every response is counted, and logged when the access log is on. */
export interface ResponseSinks {
  readonly counters: ResponseCounters;
  readonly accessLog?: AccessLog | undefined;
}

/**
 * The fast path: a variant's 200 or 304 sent from its prepared bytes (Date refreshed in place);
 * false, sending nothing, for any other outcome.
 */
export function sendPrepared(
  sinks: ResponseSinks,
  socket: Sock,
  head: RequestHead,
  outcome: Outcome,
): boolean {
  if (outcome.kind === "full" && outcome.status === 200) {
    const ok = wireOf(outcome.variant).ok;
    refreshDate(ok);
    const length = head.method === "HEAD" ? ok.headLength : ok.bytes.length;
    sendHeadAndBody(socket, ok.bytes, ok.headLength, length);
    answered(sinks, socket, head, 200, outcome.variant.encoding, length, length - ok.headLength);
    return true;
  }
  if (outcome.kind === "not-modified") {
    const prepared = wireOf(outcome.variant).notModified;
    refreshDate(prepared);
    send(socket, prepared.bytes, 0, prepared.headLength);
    answered(sinks, socket, head, 304, outcome.variant.encoding, prepared.headLength, 0);
    return true;
  }
  return false;
}

/**
 * Any outcome, with a head built for this response (errors, redirects, ranges, 404 page, close).
 * `request` is undefined for a request refused before its head was parsed.
 */
export function sendOutcome(
  sinks: ResponseSinks,
  socket: Sock,
  request: RequestHead | undefined,
  outcome: Outcome,
  close: boolean,
): void {
  const { head, body } = serializeOutcome(outcome, close);
  send(socket, head, 0, head.length);
  let bytes = head.length;
  if (request?.method !== "HEAD") {
    for (const chunk of body) {
      sendBody(socket, chunk, 0, chunk.length);
      bytes += chunk.length;
    }
  }
  const status =
    outcome.kind === "not-modified" ? 304 : outcome.kind === "partial" ? 206 : outcome.status;
  const encoding = outcome.kind === "status" ? undefined : outcome.variant.encoding;
  answered(sinks, socket, request, status, encoding, bytes, bytes - head.length);
  if (close) finish(socket);
}

/**
 * Counts a response (plain numbers: `bytes` on the wire, head included) and logs it when the
 * access log is on (`bodyBytes`, as nginx's `$body_bytes_sent`).
 */
function answered(
  sinks: ResponseSinks,
  socket: Sock,
  request: RequestHead | undefined,
  status: number,
  encoding: ContentCoding | undefined,
  bytes: number,
  bodyBytes: number,
): void {
  sinks.counters.count(status, encoding, bytes);
  const log = sinks.accessLog;
  if (log === undefined) return;
  log.log({
    remote: socket.remoteAddress,
    request,
    status,
    bytes: bodyBytes,
    referer: request?.headers.get("referer") ?? null,
    userAgent: request?.headers.get("user-agent") ?? null,
  });
}

/**
 * A prepared head and body: one write, unless the body is long enough for sendfile. The head is
 * then written on its own: its Date is refreshed in this process's copy of the page, which the
 * segment's file (what sendfile reads) does not see.
 */
function sendHeadAndBody(socket: Sock, bytes: Uint8Array, headLength: number, length: number) {
  if (!bySendfile(socket.data, length - headLength)) {
    send(socket, bytes, 0, length);
    return;
  }
  send(socket, bytes, 0, headLength);
  sendBody(socket, bytes, headLength, length - headLength);
}
