import type { HeaderSet } from "../http/decide.ts";
import { httpDate } from "../http/http-date.ts";
import { REASONS } from "../http/reasons.ts";
import type { Variant } from "../snapshot/types.ts";

/** Bodies up to this size are stored right after their head, so a response is one write. */
const INLINE_BODY_LIMIT = 64 * 1024;

/**
 * A response head serialized once, with the Date value at a fixed offset that is rewritten in place
 * at most once per second (every IMF-fixdate has the same 29 characters).
 */
export interface PreparedHead {
  /** Head, followed by the body when the body is small; `headLength` tells where the body starts. */
  readonly bytes: Buffer;
  readonly headLength: number;
  readonly dateOffset: number;
  second: number;
}

export interface VariantWire {
  /** 200 with the whole body inline when small; else the head alone. */
  readonly ok: PreparedHead;
  readonly bodyInline: boolean;
  readonly notModified: PreparedHead;
}

const wires = new WeakMap<Variant, VariantWire>();

/** The variant's 200 and 304 responses as bytes, built on first use and then reused. */
export function wireOf(variant: Variant): VariantWire {
  let wire = wires.get(variant);
  if (wire === undefined) {
    const bodyInline = variant.size <= INLINE_BODY_LIMIT;
    wire = {
      ok: prepareHead(200, variant.headers, bodyInline ? variant.bytes : undefined),
      bodyInline,
      notModified: prepareHead(304, variant.notModifiedHeaders, undefined),
    };
    wires.set(variant, wire);
  }
  return wire;
}

function prepareHead(
  status: number,
  headers: HeaderSet,
  body: Uint8Array | undefined,
): PreparedHead {
  const prefix = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\ndate: `;
  const date = httpDate();
  const head = `${prefix}${date}\r\n${headerLines(headers)}\r\n`;
  const headLength = Buffer.byteLength(head, "latin1");
  const bytes = Buffer.allocUnsafe(headLength + (body?.length ?? 0));
  bytes.write(head, 0, "latin1");
  if (body !== undefined) bytes.set(body, headLength);
  return { bytes, headLength, dateOffset: prefix.length, second: Math.floor(Date.now() / 1000) };
}

/** Rewrites the Date in place when the second has changed since the last use. */
export function refreshDate(head: PreparedHead): void {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (head.second === second) return;
  head.second = second;
  head.bytes.write(httpDate(now), head.dateOffset, "latin1");
}

function headerLines(headers: HeaderSet): string {
  let lines = "";
  for (const name in headers) lines += `${name}: ${headers[name]}\r\n`;
  return lines;
}

/**
 * A head built per response, for everything that is not a variant's plain 200 or 304:
 * `serializeHead(404, { "content-type": "text/plain" }, true)` -> `HTTP/1.1 404 Not Found\r\ndate: …`.
 */
export function serializeHead(status: number, headers: HeaderSet, close: boolean): Buffer {
  const connection = close ? "connection: close\r\n" : "";
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\ndate: ${httpDate()}\r\n${headerLines(headers)}${connection}\r\n`;
  return Buffer.from(head, "latin1");
}
