/**
 * Raw-socket HTTP/1.1 helpers for integration tests that need to see what fetch hides: exact bytes,
 * pipelining, keep-alive, bodies sent (or not) for HEAD, 304 and 204, framing (Content-Length vs
 * chunked), and requests fetch refuses to send (bad paths, odd methods, garbage).
 */
import { connectTo } from "./tls.ts";

export interface RawRequestOptions {
  /** Address to connect to. Default `127.0.0.1`. */
  readonly host?: string;
  /** Give up after this long: the socket is destroyed and whatever arrived is returned. Default 3000. */
  readonly timeoutMs?: number;
  /**
   * Stop after this many ms without a byte from the server (counted from the write, then from the
   * last byte received): for keep-alive responses, where the server leaves the connection open.
   */
  readonly closeAfterMs?: number;
}

export interface RawResponse {
  readonly status: number;
  /** Reason phrase as sent, `""` when the server sent none. */
  readonly statusText: string;
  /** Lower-case names; a repeated field's values joined with `", "` in the order received. */
  readonly headers: Map<string, string>;
  /** The payload with transfer coding removed (chunks joined); still content-coded (br, gzip, …). */
  readonly body: Uint8Array;
  /** Status line and header lines exactly as received (latin1), without the final empty line. */
  readonly rawHead: string;
}

export interface ParseOptions {
  /**
   * True for responses that have no body whatever their headers say, such as answers to HEAD.
   * `index` counts final responses (the request they answer): a 1xx shares the index of the final
   * response that follows it.
   */
  readonly bodiless?: (index: number) => boolean;
}

const DEFAULT_TIMEOUT_MS = 3000;
const CRLF = [13, 10] as const;

/**
 * Connects, writes `data` (a string is sent as UTF-8; pass bytes for anything else) and collects
 * every byte until the server closes the connection, `closeAfterMs` of silence, or `timeoutMs`.
 * Rejects only when the connection cannot be made; a reset after connecting ends the read.
 *
 * `rawRequest(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")` -> the response bytes.
 */
export function rawRequest(
  port: number,
  data: string | Uint8Array,
  options: RawRequestOptions = {},
): Promise<Uint8Array> {
  const { host = "127.0.0.1", timeoutMs = DEFAULT_TIMEOUT_MS, closeAfterMs } = options;
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let connected = false;
    let settled = false;
    let silenceTimer: ReturnType<typeof setTimeout> | undefined;

    const socket = connectTo(host, port);
    const overallTimer = setTimeout(() => socket.destroy(), timeoutMs);

    const armSilenceTimer = () => {
      if (closeAfterMs === undefined) return;
      clearTimeout(silenceTimer);
      silenceTimer = setTimeout(() => socket.destroy(), closeAfterMs);
    };

    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(overallTimer);
      clearTimeout(silenceTimer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(concatBytes(chunks));
    };

    socket.on("connect", () => {
      connected = true;
      socket.write(data, () => armSilenceTimer());
    });
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(new Uint8Array(chunk));
      armSilenceTimer();
    });
    socket.on("error", (error: Error) => {
      // Before connecting there is nothing to report but the error; after, a reset (ECONNRESET,
      // EPIPE) is something a test may want to observe, so it ends the read like a close does.
      if (!connected) settle(error);
    });
    socket.on("close", () => settle());
  });
}

/**
 * Splits a byte stream into the HTTP/1.1 responses it holds (several when requests were pipelined),
 * framing each body by RFC 9112 §6.3: none for 1xx, 204, 304 and `bodiless`; else chunked
 * transfer coding; else Content-Length; else everything up to the end of the stream.
 * Throws on a malformed or truncated response.
 *
 * `parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))`
 * -> `[{ status: 200, statusText: "OK", headers: Map { "content-length" => "2" }, body: "hi" bytes }]`
 */
export function parseResponses(bytes: Uint8Array, options: ParseOptions = {}): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  let requestIndex = 0;
  while (offset < bytes.length) {
    const headEnd = indexOfSequence(bytes, [...CRLF, ...CRLF], offset);
    if (headEnd === -1) {
      throw new Error(`incomplete response head at byte ${offset}: ${preview(bytes, offset)}`);
    }
    const rawHead = latin1(bytes.subarray(offset, headEnd));
    const { status, statusText, headers } = parseHead(rawHead);
    const bodyStart = headEnd + 4;
    const interim = status >= 100 && status < 200;

    let body: Uint8Array;
    let next: number;
    if (interim || status === 204 || status === 304 || options.bodiless?.(requestIndex) === true) {
      body = new Uint8Array(0);
      next = bodyStart;
    } else if (isChunked(headers.get("transfer-encoding"))) {
      ({ body, next } = decodeChunked(bytes, bodyStart));
    } else if (headers.has("content-length")) {
      const length = parseContentLength(headers.get("content-length") ?? "");
      next = bodyStart + length;
      if (next > bytes.length) {
        throw new Error(
          `truncated body: Content-Length ${length}, ${bytes.length - bodyStart} bytes present`,
        );
      }
      body = bytes.subarray(bodyStart, next);
    } else {
      body = bytes.subarray(bodyStart);
      next = bytes.length;
    }

    responses.push({ status, statusText, headers, body: new Uint8Array(body), rawHead });
    if (!interim) requestIndex += 1;
    offset = next;
  }
  return responses;
}

/**
 * Sends one request with `Connection: close` and parses the answer: the final response (a 1xx
 * before it is skipped). `Host` and `Connection` default to `localhost` and `close`; a header of the
 * same name in `headers` replaces the default.
 *
 * `await rawGet(port, "/a%2fb")` -> `{ status: 400, … }`.
 */
export async function rawGet(
  port: number,
  path: string,
  headers: Readonly<Record<string, string>> = {},
  method = "GET",
): Promise<RawResponse> {
  const given = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const defaults = Object.entries({ Host: "localhost", Connection: "close" }).filter(
    ([name]) => !given.has(name.toLowerCase()),
  );
  const fields = [...defaults, ...Object.entries(headers)];
  const lines = fields.map(([name, value]) => `${name}: ${value}\r\n`);
  const bytes = await rawRequest(port, `${method} ${path} HTTP/1.1\r\n${lines.join("")}\r\n`);
  const responses = parseResponses(bytes, { bodiless: () => method === "HEAD" });
  const final = responses.find((response) => response.status >= 200);
  if (final === undefined) {
    throw new Error(`no final response to ${method} ${path}: got ${preview(bytes, 0)}`);
  }
  return final;
}

function parseHead(rawHead: string): Pick<RawResponse, "status" | "statusText" | "headers"> {
  const [statusLine = "", ...fieldLines] = rawHead.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (match === null) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of fieldLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(match[1]), statusText: match[2] ?? "", headers };
}

/** RFC 9112 §6.1: chunked applies when it is the last transfer coding. */
function isChunked(transferEncoding: string | undefined): boolean {
  if (transferEncoding === undefined) return false;
  const codings = transferEncoding.split(",");
  return codings[codings.length - 1]?.trim().toLowerCase() === "chunked";
}

/** `"12"` -> 12; `"12, 12"` (a repeated field) -> 12; differing or non-numeric values throw. */
function parseContentLength(value: string): number {
  const values = new Set(value.split(",").map((part) => part.trim()));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^\d+$/.test(only)) {
    throw new Error(`bad Content-Length: ${JSON.stringify(value)}`);
  }
  return Number(only);
}

/** RFC 9112 §7.1: size [; ext] CRLF data CRLF ... 0 CRLF [trailers] CRLF. */
function decodeChunked(bytes: Uint8Array, start: number): { body: Uint8Array; next: number } {
  const parts: Uint8Array[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = indexOfSequence(bytes, CRLF, offset);
    if (lineEnd === -1) throw new Error(`truncated chunk size line at byte ${offset}`);
    const sizeText = latin1(bytes.subarray(offset, lineEnd)).split(";")[0]?.trim() ?? "";
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
      throw new Error(`bad chunk size ${JSON.stringify(sizeText)} at byte ${offset}`);
    }
    const size = Number.parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size + 2 > bytes.length) throw new Error(`truncated chunk at byte ${offset}`);
    parts.push(bytes.subarray(offset, offset + size));
    if (bytes[offset + size] !== 13 || bytes[offset + size + 1] !== 10) {
      throw new Error(`chunk data not followed by CRLF at byte ${offset + size}`);
    }
    offset += size + 2;
  }
  // Trailer section: field lines until an empty line (RFC 9112 §7.1.2); skipped.
  for (;;) {
    const lineEnd = indexOfSequence(bytes, CRLF, offset);
    if (lineEnd === -1) throw new Error(`truncated trailer section at byte ${offset}`);
    const empty = lineEnd === offset;
    offset = lineEnd + 2;
    if (empty) break;
  }
  return { body: concatBytes(parts), next: offset };
}

function indexOfSequence(bytes: Uint8Array, sequence: readonly number[], from: number): number {
  const last = bytes.length - sequence.length;
  for (let i = from; i <= last; i++) {
    if (sequence.every((byte, j) => bytes[i + j] === byte)) return i;
  }
  return -1;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** One char per byte. (TextDecoder's "latin1" is really windows-1252 and remaps 0x80-0x9f.) */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

function preview(bytes: Uint8Array, from: number): string {
  return JSON.stringify(latin1(bytes.subarray(from, from + 200)));
}
