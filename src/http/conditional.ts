/**
 * Conditional requests (RFC 9110 §13). Header values come straight from clients, so every parser here
 * is total: garbage never matches and never throws.
 */

export interface ConditionalHeaders {
  readonly ifMatch: string | null;
  readonly ifNoneMatch: string | null;
  readonly ifModifiedSince: string | null;
  readonly ifUnmodifiedSince: string | null;
}

export type PreconditionResult = "proceed" | "not-modified" | "precondition-failed";

interface EntityTag {
  readonly weak: boolean;
  /** Between the quotes. */
  readonly opaque: string;
}

/** RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;
const ETAGC = /^[\x21\x23-\x7e\x80-\xff]*$/;

/**
 * RFC 9110 §13.2.2 steps 1-4, in order. `lastModified` is in ms, whole seconds. Empty or
 * whitespace-only fields count as absent (an empty If-Match would otherwise fail every request).
 * `{ ifNoneMatch: 'W/"a"', ... }, '"a"', t, "GET"` -> `"not-modified"`; same with "POST" -> `"precondition-failed"`.
 */
export function evaluatePreconditions(
  h: ConditionalHeaders,
  etag: string,
  lastModified: number,
  method: string,
): PreconditionResult {
  const ours = parseEntityTag(etag);
  const ifMatch = present(h.ifMatch);
  if (ifMatch !== null) {
    if (!anyTagMatches(ifMatch, (tag) => ours !== null && strongMatch(tag, ours))) {
      return "precondition-failed";
    }
  } else {
    const since = parseDateField(h.ifUnmodifiedSince);
    if (since !== null && lastModified > since) return "precondition-failed";
  }
  const safe = method === "GET" || method === "HEAD";
  const ifNoneMatch = present(h.ifNoneMatch);
  if (ifNoneMatch !== null) {
    const matched = anyTagMatches(
      ifNoneMatch,
      (tag) => ours !== null && tag.opaque === ours.opaque,
    );
    if (!matched) return "proceed";
    return safe ? "not-modified" : "precondition-failed";
  }
  if (safe) {
    const since = parseDateField(h.ifModifiedSince);
    if (since !== null && lastModified <= since) return "not-modified";
  }
  return "proceed";
}

/**
 * RFC 9110 §13.1.5: true when the If-Range validator still names the stored representation. An
 * entity-tag is compared strongly (a weak tag never matches); an HTTP-date must equal Last-Modified.
 * `'"a"', '"a"', t` -> true; `'W/"a"', '"a"', t` -> false; `"Thu, 01 Jan 1970 00:00:00 GMT", '"a"', 0` -> true.
 */
export function ifRangeMatches(ifRange: string, etag: string, lastModified: number): boolean {
  const value = ifRange.trim();
  // §13.1.5: an entity-tag is told from an HTTP-date by its leading DQUOTE (or W/).
  if (value.startsWith('"') || value.startsWith("W/")) {
    const theirs = parseEntityTag(value);
    const ours = parseEntityTag(etag);
    return theirs !== null && ours !== null && strongMatch(theirs, ours);
  }
  const date = parseHttpDate(value);
  return date !== null && date === lastModified;
}

const DAYS = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAYS = "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = `(${MONTHS.join("|")})`;
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
const IMF_FIXDATE = new RegExp(`^${DAYS}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAYS}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAYS} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate and the obsolete RFC 850 and asctime forms, to
 * ms since the epoch; null for anything else, including impossible dates like Feb 30. `now` only
 * resolves RFC 850's two-digit year (more than 50 years ahead means the previous century).
 * `"Sun, 06 Nov 1994 08:49:37 GMT"` -> `784111777000`; `"yesterday"` -> `null`.
 */
export function parseHttpDate(value: string, now: number = Date.now()): number | null {
  const v = value.trim();
  let m = IMF_FIXDATE.exec(v);
  if (m !== null) return toEpoch(m[4], m[3], m[2], m[5], m[6], m[7]);
  m = ASCTIME_DATE.exec(v);
  if (m !== null) return toEpoch(m[7], m[2], m[3], m[4], m[5], m[6]);
  m = RFC850_DATE.exec(v);
  if (m === null) return null;
  const currentYear = new Date(now).getUTCFullYear();
  let year = currentYear - (currentYear % 100) + Number(m[4]);
  if (year > currentYear + 50) year -= 100;
  return toEpoch(String(year), m[3], m[2], m[5], m[6], m[7]);
}

/** Regex groups -> ms; null when the calendar date or the time of day does not exist. */
function toEpoch(
  yearText: string | undefined,
  monthName: string | undefined,
  dayText: string | undefined,
  hourText: string | undefined,
  minuteText: string | undefined,
  secondText: string | undefined,
): number | null {
  const year = Number(yearText);
  const month = MONTHS.indexOf(monthName ?? "");
  const day = Number(dayText);
  const [hour, minute, second] = [Number(hourText), Number(minuteText), Number(secondText)];
  // 60 is allowed for a leap second (RFC 9110 §5.6.7 time-of-day).
  if (month < 0 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  if (date.getUTCDate() !== day) return null;
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000;
}

function present(value: string | null): string | null {
  if (value === null) return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

/** RFC 9110 §13.1.4 / §13.1.3: an invalid date is ignored, as if the field were absent. */
function parseDateField(value: string | null): number | null {
  const v = present(value);
  return v === null ? null : parseHttpDate(v);
}

function parseEntityTag(value: string): EntityTag | null {
  const m = ENTITY_TAG.exec(value);
  return m === null ? null : { weak: m[1] !== undefined, opaque: m[2] ?? "" };
}

/** RFC 9110 §8.8.3.2: strong comparison needs both tags strong and identical. */
function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** `"*"` or `#entity-tag` (RFC 9110 §13.1.1-2); true when `*` or when some tag satisfies `test`. */
function anyTagMatches(field: string, test: (tag: EntityTag) => boolean): boolean {
  if (field === "*") return true;
  for (const tag of parseEntityTagList(field)) {
    if (test(tag)) return true;
  }
  return false;
}

/**
 * Lenient `#entity-tag` parser. Commas may occur inside an opaque-tag, so the list is scanned by
 * quotes rather than split on commas; a malformed element is skipped up to the next comma.
 */
function parseEntityTagList(field: string): EntityTag[] {
  const tags: EntityTag[] = [];
  let i = 0;
  while (i < field.length) {
    const c = field[i];
    if (c === " " || c === "\t" || c === ",") {
      i++;
      continue;
    }
    const weak = field.startsWith("W/", i);
    const open = weak ? i + 2 : i;
    const close = field[open] === '"' ? field.indexOf('"', open + 1) : -1;
    const opaque = close === -1 ? "" : field.slice(open + 1, close);
    if (close !== -1 && ETAGC.test(opaque) && endsElement(field, close + 1)) {
      tags.push({ weak, opaque });
      i = close + 1;
      continue;
    }
    const comma = field.indexOf(",", i);
    if (comma === -1) break;
    i = comma + 1;
  }
  return tags;
}

/** True when only OWS separates `from` from the next comma or the end. */
function endsElement(field: string, from: number): boolean {
  for (let i = from; i < field.length; i++) {
    const c = field[i];
    if (c === ",") return true;
    if (c !== " " && c !== "\t") return false;
  }
  return true;
}
