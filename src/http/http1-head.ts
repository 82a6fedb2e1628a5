import type { HeaderSet } from "./decide.ts";
import { REASONS } from "./reasons.ts";

/** Every IMF-fixdate (RFC 9110 §5.6.7) has this many characters, so a Date can be rewritten in place. */
export const DATE_LENGTH = 29;

/**
 * An HTTP/1.1 response head (RFC 9112 §4, §5) with Date first, so it sits at a fixed offset:
 * `serializeHead(304, { etag: '"a"' }, "Thu, 01 Jan 1970 00:00:00 GMT")` ->
 * `"HTTP/1.1 304 Not Modified\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\netag: \"a\"\r\n\r\n"`.
 * Header names and values were validated when they were configured; `extraLines` is pre-formatted.
 */
export function serializeHead(
  status: number,
  headers: HeaderSet,
  date: string,
  extraLines = "",
): string {
  let head = `${statusLine(status)}date: ${date}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return `${head}${extraLines}\r\n`;
}

/** Where the Date value starts in a head made by `serializeHead`. */
export function dateOffset(status: number): number {
  return statusLine(status).length + "date: ".length;
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
}
