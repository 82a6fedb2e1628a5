import type { Snapshot } from "../snapshot/types.ts";
import { decide, type HandlerOptions, type HeaderSet, type Outcome } from "./decide.ts";
import { httpDate } from "./http-date.ts";
import { layoutPartial } from "./range.ts";

export type { HandlerOptions } from "./decide.ts";
export { ALLOW, DEFAULT_HANDLER_OPTIONS } from "./decide.ts";

/**
 * The fetch adapter: answers a Web `Request` from the snapshot with a Web `Response`, so memserve
 * can be embedded in any `Bun.serve` (or other fetch-style) app. Bodies are the variant's shared
 * Blob or a slice of it, never a copy.
 */
export function handleRequest(
  snapshot: Snapshot,
  request: Request,
  options: HandlerOptions,
): Response {
  const method = request.method;
  const outcome = decide(snapshot, method, originForm(request.url), request.headers, options);
  return toResponse(outcome, method);
}

/** `http://host:80/a/b?q` -> `/a/b?q`: Bun hands over an absolute URL already normalized. */
function originForm(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  return pathStart === -1 ? "/" : url.slice(pathStart);
}

function toResponse(outcome: Outcome, method: string): Response {
  switch (outcome.kind) {
    case "full":
      return respond(method, outcome.variant.body, outcome.status, outcome.headers);
    case "not-modified":
      return respond(method, null, 304, outcome.variant.notModifiedHeaders);
    case "status": {
      const { status, text } = outcome;
      const headers =
        text === ""
          ? outcome.headers
          : { ...outcome.headers, "content-length": String(text.length) };
      return respond(method, text === "" ? null : text, status, headers);
    }
    case "partial":
      return partialResponse(outcome);
  }
}

function partialResponse(outcome: Extract<Outcome, { kind: "partial" }>): Response {
  const { variant, asset, ranges } = outcome;
  const blob = variant.body;
  const partial = layoutPartial(
    (a, b) => blob.slice(a, b),
    ranges,
    asset.contentType,
    variant.size,
  );
  const headers = {
    ...variant.headers,
    ...partial.headers,
    "content-length": String(partial.length),
  };
  const [only] = partial.chunks;
  const body =
    partial.chunks.length === 1 && only !== undefined ? only : new Blob([...partial.chunks]);
  return new Response(body, { status: 206, headers });
}

/**
 * Builds the response; for HEAD the same headers without a body (RFC 9110 §9.3.2). Bun omits Date on
 * answers to HEAD, so it is added here (RFC 9110 §6.6.1: an origin server with a clock sends Date).
 */
function respond(
  method: string,
  body: Blob | string | null,
  status: number,
  headers: HeaderSet,
): Response {
  if (method === "HEAD") {
    return new Response(null, { status, headers: { ...headers, date: httpDate() } });
  }
  return new Response(body, { status, headers });
}
