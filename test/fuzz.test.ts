import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_HANDLER_OPTIONS } from "../src/http/decide.ts";
import { encodePath } from "../src/http/path.ts";
import { type RunningServer, startServer } from "../src/server/start-server.ts";
import {
  buildTestSnapshot,
  createFixtureSite,
  ENGINES,
  engineOptions,
  INDEX_HTML,
  mappedSnapshot,
} from "./support/fixture.ts";
import { parseResponses, rawGet } from "./support/raw-http.ts";
import { connectTo, tlsUntilStopped } from "./support/tls.ts";

/**
 * Random and mutated request heads thrown at a live server over raw sockets. The engine owns its
 * HTTP/1.1 parsing, so anything a client can send must end in a well-formed answer or a
 * close: never a hang, a malformed response, a 500 or a dead server. Deterministic per seed; rerun a
 * failure with MEMSERVE_FUZZ_SEED=<seed printed below>.
 */

const SEED = Number(process.env.MEMSERVE_FUZZ_SEED ?? 0x6d656d73) >>> 0;
const HEADS = 1500;
const BATCH = 100;
const CONCURRENCY = 8;
const TIMEOUT_MS = 4000;
/** Short server timeouts, so the silent-client cases end in about a second. */
const SERVER_TIMEOUTS = { headerTimeoutMs: 1000, idleTimeoutS: 1 };
/** Statuses a well-formed request may get here (416: a range on the empty file). */
const VALID_STATUSES = [200, 204, 206, 301, 304, 404, 416];
/** The only 5xx a client can earn: 501 for Transfer-Encoding, 505 for HTTP/2.0 (RFC 9112 §6.1, §2.3). */
const CLIENT_5XX = [501, 505];

/** mulberry32: a tiny seeded PRNG, so every run throws the same heads. */
function prng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => String.fromCharCode(...Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof prng>;

const TARGETS = [
  ..."/ /index.html /css/site.css /empty.txt /docs/ /docs /nope /img/photo.png".split(" "),
  ...[encodePath("/odd name #1 ü%.txt"), "/index.html?x=1&y=//evil.com", "/a/../css/site.css"],
];
const FIELDS = [
  "Accept-Encoding: gzip, deflate, br, zstd",
  "Accept-Encoding: identity;q=0, *;q=0",
  "Range: bytes=0-99",
  "Range: bytes=-10, 5-",
  'If-None-Match: "x", *',
  "If-Modified-Since: Thu, 01 Jan 2037 00:00:00 GMT",
  "User-Agent: fuzz/1.0",
  "Accept: */*",
  "Connection: keep-alive",
];

interface Request {
  readonly method: string;
  readonly text: string;
  readonly closes: boolean;
}

function validRequest(r: Rng, methods = ["GET", "GET", "GET", "HEAD", "OPTIONS"]): Request {
  const method = r.pick(methods);
  const http10 = r.next() < 0.1;
  const fields = ["Host: localhost", ...FIELDS.filter(() => r.next() < 0.25)];
  const close = r.next() < 0.15;
  if (close) fields.push("Connection: close");
  const line = `${method} ${r.pick(TARGETS)} HTTP/1.${http10 ? 0 : 1}`;
  return { method, text: `${line}\r\n${fields.join("\r\n")}\r\n\r\n`, closes: close || http10 };
}

/** Edits that break (or just bend) a head; each takes and returns Latin-1 text. */
const MUTATIONS: Record<string, (head: string, r: Rng) => string> = {
  flip: (h, r) => splice(h, r.int(h.length), 1, r.bytes(1)),
  truncate: (h, r) => h.slice(0, r.int(h.length)),
  doubleCrlf: (h, r) => splice(h, crlfAt(h, r), 0, "\r\n"),
  dropCrlf: (h, r) => splice(h, crlfAt(h, r), 2, ""),
  bareLf: (h, r) =>
    r.next() < 0.5 ? h.replaceAll("\r\n", "\n") : splice(h, crlfAt(h, r), 2, "\n"),
  bareCr: (h, r) => splice(h, crlfAt(h, r), 2, "\r"),
  hugeLine: (h, r) => addField(h, `X-Big: ${"a".repeat(4096 + r.int(70_000))}`),
  manyFields: (h, r) =>
    addField(h, Array.from({ length: 50 + r.int(250) }, (_, i) => `X-${i}: v`).join("\r\n")),
  badMethod: (h, r) =>
    h.replace(/^\S*/, r.pick(["get", "G\0T", "BREW", "", "GET\t", "X".repeat(9000), r.bytes(4)])),
  badVersion: (h, r) => h.replace(/HTTP\/1\.[01]/, r.pick(BAD_VERSIONS)),
  badTarget: (h, r) => h.replace(/ \S+ /, ` ${r.pick(BAD_TARGETS)} `),
  nul: (h, r) => splice(h, r.int(h.length), 0, "\0"),
  nonAscii: (h, r) => splice(h, r.int(h.length), 0, r.pick(["é", "\xff\xfe", "\xc3\xa9", "\x80"])),
  obsFold: (h) => h.replace("\r\n", "\r\nX-Folded: a\r\n  continued\r\n\tmore\r\n"),
  spaceBeforeColon: (h) => h.replace("Host:", "Host :"),
  hostless: (h) => h.replace(/Host: [^\r]*\r\n/, ""),
  twoHosts: (h) => addField(h, "Host: evil.com"),
  leadingCrlf: (h, r) => "\r\n".repeat(1 + r.int(3)) + h,
  pipelinedGarbage: (h, r) =>
    h + r.pick([r.bytes(1 + r.int(64)), "GARBAGE\r\n\r\n", "\r\n\r\n\r\n"]),
  framing: (h, r) =>
    addField(h, r.pick(FRAMING)) +
    r.pick(["", "hello", "0\r\n\r\nGET /.env HTTP/1.1\r\nHost: x\r\n\r\n"]),
};
const BAD_VERSIONS = [..."HTTP/1.2 HTTP/2.0 HTTP/1 http/1.1 HTTP/1.10 HTTP/\xb9.1".split(" "), ""];
const BAD_TARGETS = [
  ..."* //evil.com/ /../etc/passwd /%00 /%2e%2e/ http://x /\x7f \\x /a\tb".split(" "),
  ...["/a b", "/a HTTP/1.1", `/${"a".repeat(9000)}`],
];
const FRAMING = [
  "Transfer-Encoding: chunked\r\nContent-Length: 5",
  "Content-Length: 5\r\nContent-Length: 6",
  "Content-Length: 5, 6",
  "Content-Length: -1",
  "Content-Length: +5",
  "Content-Length: 0x10",
  "Content-Length: 99999999999999999999",
  "Transfer-Encoding: chunked, identity",
  "Transfer-Encoding:\r\n chunked",
  "Content-Length: 0",
];
const MUTATION_NAMES = Object.keys(MUTATIONS);

const splice = (s: string, at: number, remove: number, insert: string) =>
  s.slice(0, at) + insert + s.slice(at + remove);
const addField = (head: string, field: string) => head.replace("\r\n", `\r\n${field}\r\n`);
function crlfAt(head: string, r: Rng): number {
  const all = [...head.matchAll(/\r\n/g)].map((m) => m.index);
  return all.length === 0 ? r.int(head.length) : r.pick(all);
}

interface Case {
  readonly label: string;
  readonly data: Uint8Array;
  /** Methods of the requests sent, in order: answers to HEAD have no body to frame. */
  readonly methods: readonly string[];
  /** Set for heads sent unmutated: what each pipelined request must get. */
  readonly requests?: readonly Request[];
  /** Split points: the head is written in this many pieces, a few ms apart. */
  readonly cuts: readonly number[];
}

function makeCase(r: Rng): Case {
  const roll = r.next();
  let label: string;
  let text: string;
  let requests: Request[] | undefined;
  let methods: string[] = [];
  if (roll < 0.15) {
    label = "random bytes";
    text = r.bytes(r.int(300));
  } else if (roll < 0.35) {
    requests = Array.from({ length: 1 + r.int(3) }, () => validRequest(r));
    label = "valid";
    text = requests.map((q) => q.text).join("");
    methods = requests.map((q) => q.method);
  } else {
    // No HEAD here: a mutated request's method is unknown, so its answer must carry its own framing.
    const names = Array.from({ length: 1 + r.int(3) }, () => r.pick(MUTATION_NAMES));
    label = names.join("+");
    text = validRequest(r, ["GET", "GET", "OPTIONS", "DELETE"]).text;
    for (const name of names) text = MUTATIONS[name]?.(text, r) ?? text;
  }
  const data = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
  const pieces = r.next() < 0.5 ? 1 : 2 + r.int(6);
  const cuts = Array.from({ length: pieces - 1 }, () => r.int(data.length)).sort((a, b) => a - b);
  return { label, data, methods, cuts, ...(requests ? { requests } : {}) };
}

interface Exchange {
  readonly bytes: Uint8Array;
  readonly closed: boolean;
  /** From connecting to the close (or the timeout), for the failure report. */
  readonly ms: number;
}

/** Writes the pieces, half-closes unless `silent`, and reads until the server closes or `timeoutMs`. */
function exchange(port: number, c: Case, silent: boolean, timeoutMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    const started = performance.now();
    const socket = connectTo("127.0.0.1", port);
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        bytes: Buffer.concat(chunks),
        closed,
        ms: Math.round(performance.now() - started),
      });
    };
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {}); // a reset after a 4xx is a close; "close" follows
    socket.on("close", () => done(true));
    socket.on("connect", async () => {
      const bounds = [0, ...c.cuts, c.data.length];
      for (let i = 1; i < bounds.length; i++) {
        if (socket.destroyed) return;
        socket.write(c.data.subarray(bounds[i - 1], bounds[i]));
        if (i < bounds.length - 1) await Bun.sleep(Math.floor(Math.random() * 3));
      }
      if (!silent && !socket.destroyed) socket.end();
    });
  });
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const preview = (bytes: Uint8Array) => JSON.stringify(latin1(bytes.subarray(0, 160)));

let fetchCuts = 0;

/** What is wrong with the answer to `c`, or undefined when it is acceptable. */
function problem(c: Case, got: Exchange, engine: string): string | undefined {
  if (!got.closed) return `no close within the timeout, got ${preview(got.bytes)}`;
  if (got.bytes.length === 0) return undefined; // closed without an answer: fine for garbage
  let statuses: number[];
  try {
    const responses = parseResponses(got.bytes, { bodiless: (i) => c.methods[i] === "HEAD" });
    const bad = responses.find((res) => !/^HTTP\/1\.1 [1-5]\d\d/.test(res.rawHead));
    if (bad !== undefined) return `bad status line ${JSON.stringify(bad.rawHead.slice(0, 40))}`;
    statuses = responses.map((res) => res.status);
  } catch (error) {
    const message = (error as Error).message;
    // Bun.serve drops a response when bytes arrive after the request that closes the connection
    // (no lingering close; see the todo below): counted, not failed, so the rest stays checked.
    if (engine === "fetch" && /^(truncated|incomplete)/.test(message)) {
      fetchCuts++;
      return undefined;
    }
    return `malformed response (${message.slice(0, 80)}): ${preview(got.bytes)}`;
  }
  const fatal = statuses.find(
    (s) => s >= 500 && (engine !== "fetch" ? !CLIENT_5XX.includes(s) : s === 500),
  );
  if (fatal !== undefined) return `${fatal} for a client error`;
  if (c.requests !== undefined) {
    const closing = c.requests.findIndex((q) => q.closes);
    const expected = closing === -1 ? c.requests.length : closing + 1;
    if (statuses.length !== expected || statuses.some((s) => !VALID_STATUSES.includes(s))) {
      return `valid requests answered ${JSON.stringify(statuses)}, expected ${expected} of ${VALID_STATUSES}`;
    }
  }
  return undefined;
}

/** Runs `cases` with CONCURRENCY sockets at a time; returns one line per unacceptable answer. */
async function throwAll(
  port: number,
  cases: readonly Case[],
  engine: string,
  silent = false,
  timeoutMs = TIMEOUT_MS,
) {
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i] as Case;
      const got = await exchange(port, c, silent, timeoutMs);
      const issue = problem(c, got, engine);
      if (issue !== undefined)
        failures.push(`[${c.label}] ${preview(c.data)}: ${issue} (${got.ms} ms)`);
    }
  };
  await Promise.all(Array.from({ length: silent ? cases.length : CONCURRENCY }, lane));
  return failures;
}

describe.each(ENGINES)("%s engine under fuzzed request heads", (engine) => {
  let site: ReturnType<typeof createFixtureSite>;
  let server: RunningServer;
  let mapped: ReturnType<typeof mappedSnapshot> | undefined;
  const errors: Error[] = [];

  beforeAll(async () => {
    site = createFixtureSite();
    const snapshot = await buildTestSnapshot(site.root);
    mapped = engine === "sendfile" ? mappedSnapshot(snapshot) : undefined;
    server = startServer(mapped?.snapshot ?? snapshot, {
      port: 0,
      host: "127.0.0.1",
      ...engineOptions(engine),
      handler: DEFAULT_HANDLER_OPTIONS,
      ...SERVER_TIMEOUTS,
      onError: (error) => errors.push(error),
    });
    if (engine === "tls") server = tlsUntilStopped(server);
  });
  afterAll(async () => {
    await server?.stop(1000);
    mapped?.cleanup();
    site?.cleanup();
  });

  const stillServing = async () => {
    const res = await rawGet(server.port, "/index.html");
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.body)).toBe(INDEX_HTML);
  };

  test(`${HEADS} random and mutated heads (seed ${SEED}) get an answer or a close`, async () => {
    console.log(`fuzz seed ${SEED} (${engine}); rerun with MEMSERVE_FUZZ_SEED=${SEED}`);
    const r = prng(SEED);
    const failures: string[] = [];
    for (let done = 0; done < HEADS; done += BATCH) {
      const cases = Array.from({ length: BATCH }, () => makeCase(r));
      failures.push(...(await throwAll(server.port, cases, engine)));
      await stillServing();
    }
    if (fetchCuts > 0) console.log(`fetch engine: ${fetchCuts} responses cut short by Bun.serve`);
    expect(failures).toEqual([]);
    // onError without an errno code is an exception while answering (the 500 path).
    expect(errors.filter((e) => !("code" in e))).toEqual([]);
    // Every connection the fuzz opened is gone: none leaked in a half-parsed state.
    for (let waited = 0; server.connections() > 0 && waited < 3000; waited += 50)
      await Bun.sleep(50);
    expect(server.connections()).toBe(0);
  }, 30_000);

  // Only our engine: Bun.serve closes a silent partial head after ~12 s whatever its idleTimeout
  // (measured), which is Bun's slowloris policy and too slow to wait for here.
  test.if(engine !== "fetch")("a client silent mid-head gets a 408 or a close", async () => {
    const r = prng(SEED ^ 0x51);
    const cases = Array.from({ length: 30 }, (): Case => {
      const { label, data, requests = [], cuts } = makeCase(r);
      const cut = r.int(data.length);
      // Only requests sent whole are answered as themselves; the cut one gets a 408 with a body.
      const methods: string[] = [];
      let end = 0;
      for (const q of requests) {
        end += q.text.length;
        if (end <= cut) methods.push(q.method);
      }
      return { label, data: data.subarray(0, cut), methods, cuts: cuts.filter((at) => at <= cut) };
    });
    expect(await throwAll(server.port, cases, engine, true, 3000)).toEqual([]);
    await stillServing();
  });

  // Found by this fuzz; Bun.serve has no lingering close, so a todo for the fetch engine.
  (engine !== "fetch" ? test : test.todo)(
    "RFC 9112 §9.6: bytes after a request that closes the connection do not cost its response",
    async () => {
      const head = "GET /img/photo.png HTTP/1.0\r\n\r\n";
      const bytes = await slowClient(server.port, head, "GARBAGE\r\n\r\n", false);
      expect(parseResponses(bytes).map((res) => res.body.length)).toEqual([300 * 1024]);
    },
  );

  // Found by this fuzz (both engines): on the client's FIN the socket was closed at once, dropping
  // response bytes not yet in the kernel and the pipelined requests not yet answered. Fixed in the
  // http1 engine (allowHalfOpen); Bun.serve still does it.
  (engine !== "fetch" ? test : test.todo)(
    "a client that half-closes after pipelining 40 requests gets 40 responses",
    async () => {
      const get = "GET /img/photo.png HTTP/1.1\r\nHost: x\r\n\r\n";
      const bytes = await slowClient(server.port, get.repeat(40), null, true);
      expect(parseResponses(bytes).filter((res) => res.body.length === 300 * 1024).length).toBe(40);
    },
  );
});

/**
 * A client that reads late: writes `first` (then FIN when `halfClose`), `later` 50 ms after, and
 * reads from 400 ms on, so the server's answer cannot all be in the kernel when the bytes arrive.
 */
function slowClient(port: number, first: string, later: string | null, halfClose: boolean) {
  return new Promise<Uint8Array>((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connectTo("127.0.0.1", port);
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.pause();
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(first, () => halfClose && socket.end());
    if (later !== null) setTimeout(() => socket.destroyed || socket.write(later), 50);
    setTimeout(() => socket.resume(), 400);
  });
}
