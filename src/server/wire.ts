import type { HeaderSet, Outcome } from "../http/decide.ts";
import { httpDate } from "../http/http-date.ts";
import { DATE_LENGTH, dateOffset, serializeHead } from "../http/http1-head.ts";
import { layoutPartial } from "../http/range.ts";
import type { ContentCoding, Variant } from "../snapshot/types.ts";

/**
 * A response serialized once (head, and the body for a 200), whose Date is rewritten in place at
 * most once per second: every IMF-fixdate has the same 29 characters.
 */
export interface PreparedResponse {
  readonly bytes: Uint8Array;
  /** Bytes of the head; a HEAD request is answered with just these. */
  readonly headLength: number;
  readonly dateOffset: number;
  second: number;
}

export interface VariantWire {
  /** The variant's stored `[200 head | body]` buffer (see `Variant.response`). */
  readonly ok: PreparedResponse;
  readonly notModified: PreparedResponse;
}

const wires = new WeakMap<Variant<ContentCoding>, VariantWire>();

/** The variant's 200 and 304 responses as bytes, prepared on first use and then reused. */
export function wireOf(variant: Variant<ContentCoding>): VariantWire {
  let wire = wires.get(variant);
  if (wire === undefined) {
    const notModified = Buffer.from(
      serializeHead(304, variant.notModifiedHeaders, httpDate()),
      "latin1",
    );
    wire = {
      ok: prepared(variant.response, variant.response.length - variant.size, 200),
      notModified: prepared(notModified, notModified.length, 304),
    };
    wires.set(variant, wire);
  }
  return wire;
}

function prepared(bytes: Uint8Array, headLength: number, status: number): PreparedResponse {
  return { bytes, headLength, dateOffset: dateOffset(status), second: -1 };
}

const encoder = new TextEncoder();

/** Rewrites the Date in place when the second has changed since this response was last sent. */
export function refreshDate(response: PreparedResponse): void {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (response.second === second) return;
  response.second = second;
  const target = response.bytes.subarray(response.dateOffset, response.dateOffset + DATE_LENGTH);
  encoder.encodeInto(httpDate(now), target);
}

/**
 * A head built for one response, for everything that is not a variant's plain 200 or 304:
 * `headBytes(404, { "content-type": "text/plain" }, true)` -> `HTTP/1.1 404 Not Found\r\ndate: …`.
 */
export function headBytes(status: number, headers: HeaderSet, close: boolean): Buffer {
  const head = serializeHead(status, headers, httpDate(), close ? "connection: close\r\n" : "");
  return Buffer.from(head, "latin1");
}

/**
 * Any outcome as a head built for this response plus body chunks (views of stored bytes, never
 * copies): errors, redirects, ranges, the 404 page, and answers that close the connection.
 */
export function serializeOutcome(
  outcome: Outcome,
  close: boolean,
): { readonly head: Buffer; readonly body: readonly Uint8Array[] } {
  const body = bodyChunks(outcome);
  const { status, headers } = headOf(outcome, body);
  return { head: headBytes(status, headers, close), body: body.chunks };
}

interface Body {
  readonly chunks: readonly Uint8Array[];
  readonly length: number;
  /** A 206's Content-Range or multipart Content-Type. */
  readonly headers?: Readonly<Record<string, string>>;
}

const NO_BODY: Body = { chunks: [], length: 0 };

function bodyChunks(outcome: Outcome): Body {
  switch (outcome.kind) {
    case "full":
      return { chunks: [outcome.variant.bytes], length: outcome.variant.size };
    case "not-modified":
      return NO_BODY;
    case "status": {
      const text = encoder.encode(outcome.text);
      return { chunks: [text], length: text.length };
    }
    case "partial": {
      const { variant, asset, ranges } = outcome;
      const bytes = variant.bytes;
      const slice = (a: number, b: number) => bytes.subarray(a, b);
      return layoutPartial(slice, ranges, asset.contentType, variant.size);
    }
  }
}

function headOf(
  outcome: Outcome,
  body: Body,
): { status: number; headers: Readonly<Record<string, string>> } {
  switch (outcome.kind) {
    case "full":
      return { status: outcome.status, headers: outcome.headers };
    case "not-modified":
      return { status: 304, headers: outcome.variant.notModifiedHeaders };
    case "status": {
      // RFC 9110 §8.6: no Content-Length in a 204.
      if (outcome.status === 204) return outcome;
      return {
        status: outcome.status,
        headers: { ...outcome.headers, "content-length": `${body.length}` },
      };
    }
    case "partial":
      return {
        status: 206,
        headers: {
          ...outcome.variant.headers,
          ...body.headers,
          "content-length": `${body.length}`,
        },
      };
  }
}
