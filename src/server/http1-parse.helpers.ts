// Shared by the parser's test files: parse from text, and read back the head or the status.
import {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  type ParseResult,
  parseRequestHead,
  type RequestHead,
} from "./http1-parse.ts";

export const LIMITS: HeadLimits = DEFAULT_HEAD_LIMITS;

export function parse(
  text: string | Uint8Array,
  start = 0,
  limits: HeadLimits = LIMITS,
): ParseResult {
  const buffer = typeof text === "string" ? Buffer.from(text, "latin1") : Buffer.from(text);
  return parseRequestHead(buffer, start, limits);
}

/** The head of a successful parse; fails the test otherwise. */
export function headOf(text: string, limits: HeadLimits = LIMITS): RequestHead {
  const result = parse(text, 0, limits);
  if (result.kind !== "request")
    throw new Error(`expected a request, got ${JSON.stringify(result)}`);
  return result.head;
}

export function statusOf(text: string, limits: HeadLimits = LIMITS): number | string {
  const result = parse(text, 0, limits);
  return result.kind === "error" ? result.status : result.kind;
}

/** `GET <target> HTTP/1.1` with Host and the given extra field lines. */
export const get = (target = "/", ...fields: string[]) =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\n${fields.map((f) => `${f}\r\n`).join("")}\r\n`;
