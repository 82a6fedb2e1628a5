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

/**
 * The header block as received, searched on demand. Parsing every field into a structure cost
 * ~3 us for a browser's dozen fields; a request needs at most eight of them, so each lookup is a
 * native `indexOf` for `\r\nname:` in a lower-cased copy (same offsets: Latin-1 lower-casing keeps
 * lengths) and the value is cut from the original, whose case matters (entity-tags).
 */
export class RequestHeaders implements HeaderReader {
  /** `\r\nName: value\r\nOther: v\r\n`: every field line between CRLFs. */
  private readonly block: string;
  private readonly lower: string;

  constructor(block: string) {
    this.block = block;
    this.lower = block.toLowerCase();
  }

  /** The value of `name` (lower-case), repeated fields joined with ", " (RFC 9110 §5.3), or null. */
  get(name: string): string | null {
    const key = `\r\n${name}:`;
    let at = this.lower.indexOf(key);
    if (at === -1) return null;
    let value: string | null = null;
    while (at !== -1) {
      const from = at + key.length;
      const end = this.block.indexOf("\r\n", from);
      const part = trimOws(this.block, from, end);
      value = value === null ? part : `${value}, ${part}`;
      at = this.lower.indexOf(key, end);
    }
    return value;
  }

  /** How many field lines named `name` there are. */
  count(name: string): number {
    const key = `\r\n${name}:`;
    let n = 0;
    for (let at = this.lower.indexOf(key); at !== -1; at = this.lower.indexOf(key, at + 1)) n++;
    return n;
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
  /**
   * The request's content (RFC 9112 §6.3): its Content-Length (0: none), or `chunked` for a
   * Transfer-Encoding. Only a method memserve refuses (405) may have any.
   */
  readonly content: number | "chunked";
}

export type ParseResult =
  | { readonly kind: "incomplete" }
  | { readonly kind: "request"; readonly head: RequestHead; readonly consumed: number }
  | { readonly kind: "error"; readonly status: 400 | 413 | 414 | 431 | 501 | 505 };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Request targets are visible ASCII only (RFC 9112 §3.2; RFC 3986 has no spaces or controls).
const TARGET = /^[\x21-\x7e]+$/;
// Field lines (RFC 9112 §5, RFC 9110 §5.5): `CRLF token ":" value` repeated, then the final CRLF;
// values are visible characters, obs-text, spaces and tabs, with no CR, LF or NUL.
const FIELD_LINES = /^(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*)*\r\n$/;
const INCOMPLETE = { kind: "incomplete" } as const;

export type LocateResult =
  | { readonly kind: "incomplete" }
  | { readonly kind: "head"; readonly text: string; readonly consumed: number }
  | { readonly kind: "error"; readonly status: 414 | 431 };

/**
 * Finds one complete request head in `buffer` from `start` and returns it as a Latin-1 string
 * without the final CRLFCRLF: `"GET / HTTP/1.1\r\nHost: x\r\n\r\n…"` -> `{ kind: "head",
 * text: "GET / HTTP/1.1\r\nHost: x", consumed: 27 }`. Leading empty lines are skipped (RFC 9112
 * §2.2); a head or request line over its limit is an error before it is complete.
 */
export function locateHead(buffer: Buffer, start: number, limits: HeadLimits): LocateResult {
  let from = start;
  while (buffer[from] === 13 && buffer[from + 1] === 10) from += 2;
  const end = buffer.indexOf("\r\n\r\n", from, "latin1");
  if (end === -1) return incompleteOrTooLarge(buffer, from, limits);
  if (end - from + 4 > limits.maxHeadBytes) return { kind: "error", status: 431 };
  // latin1Slice is Buffer's native decoder without toString's argument handling (~2.5x faster).
  const text = (buffer as LatinBuffer).latin1Slice(from, end);
  return { kind: "head", text, consumed: end + 4 - start };
}

interface LatinBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/**
 * Parses one HTTP/1.1 request head from `buffer` starting at `start` (RFC 9112 §2-§6).
 * `"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"` -> `{ kind: "request", head: { method: "GET", target: "/a", … },
 * consumed: 29 }`. Partial input -> `incomplete`; anything malformed or over a limit -> the status to
 * answer with before closing. Requests with content are refused: a static server takes none.
 */
export function parseRequestHead(buffer: Buffer, start: number, limits: HeadLimits): ParseResult {
  const located = locateHead(buffer, start, limits);
  if (located.kind !== "head") return located;
  const result = parseHeadText(located.text, limits);
  if (result.kind !== "request") return result;
  return { kind: "request", head: result.head, consumed: located.consumed };
}

function incompleteOrTooLarge(buffer: Buffer, from: number, limits: HeadLimits): LocateResult {
  const pending = buffer.length - from;
  const lineEnd = buffer.indexOf("\r\n", from, "latin1");
  if (lineEnd === -1 && pending > limits.maxRequestLineBytes) return { kind: "error", status: 414 };
  if (pending > limits.maxHeadBytes) return { kind: "error", status: 431 };
  return INCOMPLETE;
}

export type HeadResult = { readonly kind: "request"; readonly head: RequestHead } | ParseError;
type ParseError = Extract<ParseResult, { kind: "error" }>;

/** Parses a head located by `locateHead` (its text, without the final CRLFCRLF). */
export function parseHeadText(text: string, limits: HeadLimits): HeadResult {
  const lineEnd = text.indexOf("\r\n");
  const requestLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
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

  const block = lineEnd === -1 ? "\r\n" : `${text.slice(lineEnd)}\r\n`;
  // One pass of a compiled regex checks every field line's grammar (RFC 9112 §5: token name, colon
  // with no whitespace before it, value of visible characters, SP, HTAB, obs-text; obs-fold and
  // stray CR/LF/NUL rejected). The shortest line is 4 bytes, so counting is only needed for blocks
  // that could hold more than the limit.
  if (!FIELD_LINES.test(block)) return { kind: "error", status: 400 };
  if (block.length > limits.maxHeaders * 4 && countLines(block) > limits.maxHeaders) {
    return { kind: "error", status: 431 };
  }
  const headers = new RequestHeaders(block);
  const http10 = version === "HTTP/1.0";
  const hosts = headers.count("host");
  // RFC 9112 §3.2: a 1.1 request without exactly one Host is a 400.
  if ((!http10 && hosts !== 1) || hosts > 1) return { kind: "error", status: 400 };
  const content = contentOf(headers);
  if (content === 400) return { kind: "error", status: 400 };
  const refused = content !== 0 && READS.has(method) ? noContentStatus(content) : undefined;
  if (refused !== undefined) return { kind: "error", status: refused };
  const keepAlive = wantsKeepAlive(headers, http10);
  return { kind: "request", head: { method, target, headers, keepAlive, http10, content } };
}

/** Field lines in a block that starts with CRLF and ends with CRLF. */
function countLines(block: string): number {
  let n = -1;
  for (let at = block.indexOf("\r\n"); at !== -1; at = block.indexOf("\r\n", at + 2)) n++;
  return n;
}

/**
 * The field value without the optional whitespace around it (RFC 9112 §5.1: OWS is SP / HTAB only).
 * `String.prototype.trim` would also drop CR, LF, VT, FF and NBSP at the ends, letting those controls
 * slip past the value check. `trimOws("X:  a b\t", 2, 8)` -> `"a b"`.
 */
function trimOws(line: string, from: number, to: number): string {
  let start = from;
  let end = to;
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

/** The methods memserve answers, which take no content. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * RFC 9112 §6.3: a Transfer-Encoding is `chunked` (with a Content-Length too, a smuggling attempt:
 * 400); a Content-Length that is not one decimal number (`5, 5`, `-1`) is 400.
 */
function contentOf(headers: RequestHeaders): number | "chunked" | 400 {
  const length = headers.get("content-length");
  if (headers.get("transfer-encoding") !== null) return length === null ? "chunked" : 400;
  if (length === null) return 0;
  return /^\d+$/.test(length) ? Number(length) : 400;
}

/**
 * A GET, HEAD or OPTIONS needs no content; accepting some would mean reading and discarding it: a
 * positive Content-Length is 413, Transfer-Encoding 501 (RFC 9112 §6.1 allows refusing what we do
 * not implement). Other methods are answered 405, their content read and dropped (see the engine).
 */
function noContentStatus(content: number | "chunked"): 413 | 501 {
  return content === "chunked" ? 501 : 413;
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
