import { openSync, write as writeFd, writeSync } from "node:fs";

export interface AccessLogEntry {
  readonly remote: string;
  /** Undefined for a request that was refused before its head could be parsed. */
  readonly request:
    | { readonly method: string; readonly target: string; readonly http10: boolean }
    | undefined;
  readonly status: number;
  /** Body bytes sent (0 for a HEAD or a 304), as nginx's `$body_bytes_sent`. */
  readonly bytes: number;
  readonly referer: string | null;
  readonly userAgent: string | null;
}

export type AccessLogFormat = "combined" | "json";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** `27/Nov/2026:06:29:03 +0000`: the Common Log Format's time, in UTC. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const date = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}`;
  return `${date}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Quotes, backslashes and bytes outside printable ASCII as `\xHH` (as nginx does), so a line stays one line. */
export function escapeField(value: string): string {
  return value.replace(
    /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * One line in the Combined Log Format (Apache/nginx `combined`):
 * `127.0.0.1 - - [27/Nov/2026:06:29:03 +0000] "GET /a.css HTTP/1.1" 200 1234 "-" "curl/8.5"`.
 */
export function formatCombined(entry: AccessLogEntry, time: string): string {
  const { request } = entry;
  const line =
    request === undefined
      ? "-"
      : `${request.method} ${request.target} HTTP/1.${request.http10 ? 0 : 1}`;
  const quoted = (value: string | null) => (value === null ? "-" : escapeField(value));
  return `${entry.remote} - - [${time}] "${escapeField(line)}" ${entry.status} ${entry.bytes} "${quoted(entry.referer)}" "${quoted(entry.userAgent)}"\n`;
}

/** One JSON object per line with the same fields, ISO time. */
export function formatJson(entry: AccessLogEntry, ms: number): string {
  const { request } = entry;
  return `${JSON.stringify({
    time: new Date(ms).toISOString(),
    remote: entry.remote,
    method: request?.method ?? null,
    target: request?.target ?? null,
    protocol: request === undefined ? null : `HTTP/1.${request.http10 ? 0 : 1}`,
    status: entry.status,
    bytes: entry.bytes,
    referer: entry.referer,
    userAgent: entry.userAgent,
  })}\n`;
}

/** Buffered text is written out at this size, or after FLUSH_MS, whichever comes first. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 1000;

/**
 * An access log that costs a string per response: lines are buffered and written with one async
 * write per 64 KiB or per second, so a slow disk or pipe never blocks answering. Off by default.
 */
export class AccessLog {
  #buffer = "";
  #writing = false;
  #timeText = "";
  #timeSecond = -1;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly fd: number,
    private readonly format: AccessLogFormat,
  ) {
    this.#timer = setInterval(() => this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  log(entry: AccessLogEntry): void {
    const now = Date.now();
    if (this.format === "json") {
      this.#buffer += formatJson(entry, now);
    } else {
      const second = Math.floor(now / 1000);
      if (second !== this.#timeSecond) {
        this.#timeSecond = second;
        this.#timeText = clfTime(now);
      }
      this.#buffer += formatCombined(entry, this.#timeText);
    }
    if (this.#buffer.length >= FLUSH_BYTES) this.flush();
  }

  /** Starts writing what is buffered; one write at a time keeps lines in order. */
  flush(): void {
    if (this.#writing || this.#buffer === "") return;
    const text = this.#buffer;
    this.#buffer = "";
    this.#writing = true;
    writeFd(this.fd, text, null, "latin1", () => {
      this.#writing = false;
      if (this.#buffer.length >= FLUSH_BYTES) this.flush();
    });
  }

  /** Writes everything buffered (at shutdown), after the write in progress so lines keep their order. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#writing) await Bun.sleep(5);
    const text = this.#buffer;
    this.#buffer = "";
    if (text !== "") writeSync(this.fd, text, null, "latin1");
  }
}

/**
 * `-` is stdout; a path is opened for appending (created if missing; every worker appends whole
 * lines to the same file).
 *
 * @throws the open error (ENOENT for a missing directory, EACCES).
 */
export function openAccessLog(target: string, format: AccessLogFormat): AccessLog {
  return new AccessLog(target === "-" ? 1 : openSync(target, "a"), format);
}
