import type { HeaderReader } from "../http/decide.ts";

/** Limits on what a client may send before it gets an error (each answered, then the connection closes). */
export interface HeadLimits {
  /** Whole request head, request line included (431 beyond). */
  readonly maxHeadBytes: number;
  /** Request line alone (414 beyond, RFC 9112 §3). */
  readonly maxRequestLineBytes: number;
  /** Header field lines (431 beyond). */
  readonly maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = {
  maxHeadBytes: 16 * 1024,
  maxRequestLineBytes: 8 * 1024,
  maxHeaders: 100,
};

/** Header fields as received, looked up by lower-case name; repeated fields are joined with ", ". */
export class RequestHeaders implements HeaderReader {
  // Parallel arrays: a request has a handful of fields, and a linear scan beats a Map's setup.
  private readonly names: string[] = [];
  private readonly values: string[] = [];

  add(name: string, value: string): void {
    const index = this.names.indexOf(name);
    if (index === -1) {
      this.names.push(name);
      this.values.push(value);
    } else {
      // RFC 9110 §5.3: a recipient may combine repeated list fields with commas, in order.
      this.values[index] = `${this.values[index]}, ${value}`;
    }
  }

  get(name: string): string | null {
    const index = this.names.indexOf(name);
    return index === -1 ? null : (this.values[index] ?? null);
  }
}

export interface RequestHead {
  readonly method: string;
  /** Origin-form target (`/a/b?q`); absolute-form is reduced to its path (RFC 9112 §3.2.2). */
  readonly target: string;
  readonly headers: RequestHeaders;
  /** False when the client asked to close (RFC 9112 §9.3) or spoke HTTP/1.0 without keep-alive. */
  readonly keepAlive: boolean;
  readonly http10: boolean;
}

export type ParseResult =
  | { readonly kind: "incomplete" }
  | { readonly kind: "request"; readonly head: RequestHead; readonly consumed: number }
  | { readonly kind: "error"; readonly status: 400 | 413 | 414 | 431 | 501 | 505 };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Request targets are visible ASCII only (RFC 9112 §3.2; RFC 3986 has no spaces or controls).
const TARGET = /^[\x21-\x7e]+$/;
// Field values: visible characters, obs-text, spaces and tabs; no CR, LF or NUL (RFC 9110 §5.5).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const INCOMPLETE: ParseResult = { kind: "incomplete" };

/**
 * Parses one HTTP/1.1 request head from `buffer` starting at `start` (RFC 9112 §2-§6).
 * `"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"` -> `{ kind: "request", head: { method: "GET", target: "/a", … },
 * consumed: 29 }`. Partial input -> `incomplete`; anything malformed or over a limit -> the status to
 * answer with before closing. Requests with content are refused: a static server takes none.
 */
export function parseRequestHead(buffer: Buffer, start: number, limits: HeadLimits): ParseResult {
  let from = start;
  // RFC 9112 §2.2: ignore empty lines before the request line (left over from a previous body).
  while (buffer[from] === 13 && buffer[from + 1] === 10) from += 2;
  const end = buffer.indexOf("\r\n\r\n", from, "latin1");
  if (end === -1) return incompleteOrTooLarge(buffer, from, limits);
  if (end - from + 4 > limits.maxHeadBytes) return { kind: "error", status: 431 };
  const text = buffer.toString("latin1", from, end);
  const result = parseHeadText(text, limits);
  if (result.kind !== "request") return result;
  return { kind: "request", head: result.head, consumed: end + 4 - start };
}

function incompleteOrTooLarge(buffer: Buffer, from: number, limits: HeadLimits): ParseResult {
  const pending = buffer.length - from;
  const lineEnd = buffer.indexOf("\r\n", from, "latin1");
  if (lineEnd === -1 && pending > limits.maxRequestLineBytes) return { kind: "error", status: 414 };
  if (pending > limits.maxHeadBytes) return { kind: "error", status: 431 };
  return INCOMPLETE;
}

type HeadResult = { readonly kind: "request"; readonly head: RequestHead } | ParseError;
type ParseError = Extract<ParseResult, { kind: "error" }>;

function parseHeadText(text: string, limits: HeadLimits): HeadResult {
  const lines = text.split("\r\n");
  const requestLine = lines[0] ?? "";
  if (requestLine.length > limits.maxRequestLineBytes) return { kind: "error", status: 414 };
  const parts = requestLine.split(" ");
  if (parts.length !== 3) return { kind: "error", status: 400 };
  const [method = "", rawTarget = "", version = ""] = parts;
  if (!TOKEN.test(method)) return { kind: "error", status: 400 };
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    return { kind: "error", status: /^HTTP\/\d\.\d$/.test(version) ? 505 : 400 };
  }
  const target = originFormOf(rawTarget, method);
  if (target === undefined) return { kind: "error", status: 400 };
  if (lines.length - 1 > limits.maxHeaders) return { kind: "error", status: 431 };

  const headers = new RequestHeaders();
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(":");
    // RFC 9112 §5.1: no whitespace between name and colon; §5.2: obs-fold is rejected.
    if (colon <= 0) return { kind: "error", status: 400 };
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return { kind: "error", status: 400 };
    const value = trimOws(line, colon + 1);
    if (!FIELD_VALUE.test(value)) return { kind: "error", status: 400 };
    if (name === "host") hosts++;
    headers.add(name, value);
  }
  const http10 = version === "HTTP/1.0";
  // RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400.
  if ((!http10 && hosts !== 1) || hosts > 1) return { kind: "error", status: 400 };
  const framing = checkNoContent(headers);
  if (framing !== undefined) return { kind: "error", status: framing };
  const keepAlive = wantsKeepAlive(headers, http10);
  return { kind: "request", head: { method, target, headers, keepAlive, http10 } };
}

/**
 * The field value without the optional whitespace around it (RFC 9112 §5.1: OWS is SP / HTAB only).
 * `String.prototype.trim` would also drop CR, LF, VT, FF and NBSP at the ends, letting those controls
 * slip past the value check. `trimOws("X:  a b\t", 2)` -> `"a b"`.
 */
function trimOws(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * `/a?q` stays; `http://h/a?q` -> `/a?q` (RFC 9112 §3.2.2); `*` only for OPTIONS (-> `*`).
 * Anything else -> undefined (400).
 */
function originFormOf(target: string, method: string): string | undefined {
  if (!TARGET.test(target)) return undefined;
  if (target.startsWith("/")) return target;
  if (target === "*") return method === "OPTIONS" ? "*" : undefined;
  const scheme = /^https?:\/\/[^/?#]*/i.exec(target);
  if (scheme === null) return undefined;
  const rest = target.slice(scheme[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/**
 * A GET needs no content; accepting some would mean reading and discarding it. Content-Length 0 is
 * fine; a positive one is 413; Transfer-Encoding is 501 (RFC 9112 §6.1 allows refusing what we do
 * not implement); an invalid Content-Length is 400 (RFC 9112 §6.3).
 */
function checkNoContent(headers: RequestHeaders): 400 | 413 | 501 | undefined {
  if (headers.get("transfer-encoding") !== null) return 501;
  const length = headers.get("content-length");
  if (length === null) return undefined;
  if (!/^\d+$/.test(length)) return 400;
  return Number(length) === 0 ? undefined : 413;
}

/**
 * RFC 9112 §9.3: 1.1 persists unless `close`. HTTP/1.0 connections are closed after the response:
 * keeping one open needs `Connection: keep-alive` echoed on every response, which 1.0 clients
 * (now rare) are not worth a slower path for; closing is always a correct answer (§9.6).
 */
function wantsKeepAlive(headers: RequestHeaders, http10: boolean): boolean {
  if (http10) return false;
  const connection = headers.get("connection");
  if (connection === null) return true;
  return !connection
    .toLowerCase()
    .split(",")
    .some((token) => token.trim() === "close");
}
