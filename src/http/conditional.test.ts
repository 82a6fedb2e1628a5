import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type ConditionalHeaders,
  evaluatePreconditions,
  ifRangeMatches,
  parseHttpDate,
} from "./conditional.ts";

const ETAG = '"3f9a1c2b0d4e5f60-br"';
/** Sun, 06 Nov 1994 08:49:37 GMT */
const LM = 784111777000;
const LM_DATE = "Sun, 06 Nov 1994 08:49:37 GMT";
const BEFORE = "Sun, 06 Nov 1994 08:49:36 GMT";
const AFTER = "Sun, 06 Nov 1994 08:49:38 GMT";

const none: ConditionalHeaders = {
  ifMatch: null,
  ifNoneMatch: null,
  ifModifiedSince: null,
  ifUnmodifiedSince: null,
};
const run = (h: Partial<ConditionalHeaders>, method = "GET") =>
  evaluatePreconditions({ ...none, ...h }, ETAG, LM, method);

describe("evaluatePreconditions", () => {
  test("RFC 9110 §13.2.2: no conditional fields -> proceed", () => {
    expect(run({})).toBe("proceed");
  });

  test("RFC 9110 §13.1.1: If-Match uses strong comparison", () => {
    expect(run({ ifMatch: ETAG })).toBe("proceed");
    expect(run({ ifMatch: `W/${ETAG}` })).toBe("precondition-failed");
    expect(run({ ifMatch: '"other"' })).toBe("precondition-failed");
    expect(run({ ifMatch: '"3f9a1c2b0d4e5f60-gzip"' })).toBe("precondition-failed");
  });

  test("RFC 9110 §13.1.1: If-Match * matches any current representation", () => {
    expect(run({ ifMatch: "*" })).toBe("proceed");
    expect(run({ ifMatch: " * " })).toBe("proceed");
  });

  test("RFC 9110 §13.1.1: If-Match takes a list of entity-tags", () => {
    expect(run({ ifMatch: `"a", W/"b",${ETAG}` })).toBe("proceed");
    expect(run({ ifMatch: `"a",\t${ETAG} , "c"` })).toBe("proceed");
    expect(run({ ifMatch: '"a", "b"' })).toBe("precondition-failed");
  });

  test("RFC 9110 §13.1.1: a garbage If-Match never matches (412)", () => {
    for (const garbage of ["abc", "3f9a1c2b0d4e5f60-br", '"unterminated', "**", '"a" "b"']) {
      expect(run({ ifMatch: garbage })).toBe("precondition-failed");
    }
  });

  test("RFC 9110 §13.2.2: If-Match failure wins over a matching If-None-Match", () => {
    expect(run({ ifMatch: '"x"', ifNoneMatch: ETAG })).toBe("precondition-failed");
  });

  test("RFC 9110 §13.1.4: If-Unmodified-Since fails when modified after the date", () => {
    expect(run({ ifUnmodifiedSince: BEFORE })).toBe("precondition-failed");
    expect(run({ ifUnmodifiedSince: LM_DATE })).toBe("proceed");
    expect(run({ ifUnmodifiedSince: AFTER })).toBe("proceed");
  });

  test("RFC 9110 §13.2.2: If-Unmodified-Since is evaluated only when If-Match is absent", () => {
    expect(run({ ifMatch: ETAG, ifUnmodifiedSince: BEFORE })).toBe("proceed");
  });

  test("RFC 9110 §13.1.4: an invalid If-Unmodified-Since date is ignored", () => {
    expect(run({ ifUnmodifiedSince: "yesterday" })).toBe("proceed");
    expect(run({ ifUnmodifiedSince: `${BEFORE}, ${AFTER}` })).toBe("proceed");
  });

  test("RFC 9110 §13.1.2: If-None-Match uses weak comparison", () => {
    expect(run({ ifNoneMatch: ETAG })).toBe("not-modified");
    expect(run({ ifNoneMatch: `W/${ETAG}` })).toBe("not-modified");
    expect(run({ ifNoneMatch: '"other"' })).toBe("proceed");
  });

  test("RFC 9110 §13.1.2: If-None-Match * and lists", () => {
    expect(run({ ifNoneMatch: "*" })).toBe("not-modified");
    expect(run({ ifNoneMatch: `"a", W/"b", ${ETAG}` })).toBe("not-modified");
    expect(run({ ifNoneMatch: '"a", W/"b"' })).toBe("proceed");
  });

  test("RFC 9110 §13.1.2: a matching If-None-Match is 304 for GET/HEAD, 412 for other methods", () => {
    expect(run({ ifNoneMatch: ETAG }, "HEAD")).toBe("not-modified");
    expect(run({ ifNoneMatch: ETAG }, "POST")).toBe("precondition-failed");
    expect(run({ ifNoneMatch: "*" }, "PUT")).toBe("precondition-failed");
  });

  test("RFC 9110 §13.1.2: garbage in If-None-Match never matches and never throws", () => {
    for (const garbage of ["abc", '"a b"', 'W/"', 'W/ "x"', '"\u0001"', ",,,", `x${ETAG}`]) {
      expect(run({ ifNoneMatch: garbage })).toBe("proceed");
    }
  });

  test("RFC 9110 §8.8.3: a comma inside an opaque-tag does not split the list", () => {
    const etag = '"a,b"';
    const h = { ...none, ifNoneMatch: '"x", "a,b"' };
    expect(evaluatePreconditions(h, etag, LM, "GET")).toBe("not-modified");
    expect(evaluatePreconditions({ ...none, ifNoneMatch: '"a"' }, etag, LM, "GET")).toBe("proceed");
  });

  test("RFC 9110 §13.1.3: If-Modified-Since -> 304 when not modified after the date", () => {
    expect(run({ ifModifiedSince: LM_DATE })).toBe("not-modified");
    expect(run({ ifModifiedSince: AFTER })).toBe("not-modified");
    expect(run({ ifModifiedSince: BEFORE })).toBe("proceed");
  });

  test("RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present", () => {
    expect(run({ ifNoneMatch: '"other"', ifModifiedSince: AFTER })).toBe("proceed");
  });

  test("RFC 9110 §13.1.3: If-Modified-Since is ignored for methods other than GET/HEAD", () => {
    expect(run({ ifModifiedSince: AFTER }, "POST")).toBe("proceed");
    expect(run({ ifModifiedSince: AFTER }, "HEAD")).toBe("not-modified");
  });

  test("RFC 9110 §13.1.3: an invalid If-Modified-Since date is ignored", () => {
    for (const garbage of [
      "0",
      "-1",
      "Sun, 31 Feb 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994",
      "\u0000",
    ]) {
      expect(run({ ifModifiedSince: garbage })).toBe("proceed");
    }
  });

  test("RFC 9110 §5.6.1: empty conditional fields count as absent", () => {
    expect(run({ ifMatch: "", ifNoneMatch: " ", ifModifiedSince: AFTER })).toBe("not-modified");
  });

  test("RFC 9110 §13.2.2: arbitrary header values never throw", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii" }), fc.string(), (a, b) => {
        const h = { ifMatch: a, ifNoneMatch: b, ifModifiedSince: a, ifUnmodifiedSince: b };
        expect(["proceed", "not-modified", "precondition-failed"]).toContain(
          evaluatePreconditions(h, ETAG, LM, "GET"),
        );
        expect(typeof ifRangeMatches(a, ETAG, LM)).toBe("boolean");
      }),
    );
  });
});

describe("parseHttpDate", () => {
  test("RFC 9110 §5.6.7: IMF-fixdate", () => {
    expect(parseHttpDate(LM_DATE)).toBe(LM);
    expect(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT")).toBe(0);
    expect(parseHttpDate("Wed, 31 Dec 1969 23:59:59 GMT")).toBe(-1000);
    expect(parseHttpDate("Tue, 29 Feb 2000 12:00:00 GMT")).toBe(Date.UTC(2000, 1, 29, 12));
  });

  test("RFC 9110 §5.6.7: obsolete RFC 850 format", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(LM);
    expect(parseHttpDate("Monday, 06-Nov-23 08:49:37 GMT", now)).toBe(
      Date.UTC(2023, 10, 6, 8, 49, 37),
    );
  });

  test("RFC 9110 §5.6.7: a two-digit year over 50 years ahead is in the previous century", () => {
    const now = Date.UTC(2026, 5, 1);
    expect(parseHttpDate("Friday, 01-Jan-76 00:00:00 GMT", now)).toBe(Date.UTC(2076, 0, 1));
    expect(parseHttpDate("Saturday, 01-Jan-77 00:00:00 GMT", now)).toBe(Date.UTC(1977, 0, 1));
  });

  test("RFC 9110 §5.6.7: obsolete asctime format", () => {
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994")).toBe(LM);
    expect(parseHttpDate("Sun Nov 16 08:49:37 1994")).toBe(Date.UTC(1994, 10, 16, 8, 49, 37));
  });

  test("RFC 9110 §5.6.7: surrounding whitespace is tolerated", () => {
    expect(parseHttpDate(`  ${LM_DATE}\t`)).toBe(LM);
  });

  test("RFC 9110 §5.6.7: a leap second (60) is a valid time-of-day", () => {
    expect(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT")).toBe(Date.UTC(2017, 0, 1));
  });

  test("RFC 9110 §5.6.7: years below 100 are not shifted into the 1900s", () => {
    expect(parseHttpDate("Mon, 01 Jan 0001 00:00:00 GMT")).toBe(
      new Date("0001-01-01T00:00:00Z").getTime(),
    );
  });

  test.each([
    "",
    "yesterday",
    "784111777",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 06 Nov 1994 08:49:37 +0000",
    "sun, 06 nov 1994 08:49:37 gmt",
    "Sun, 6 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 94 08:49:37 GMT",
    "Sun,  06 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 06 Nov 1994 08:49:61 GMT",
    "Sun, 00 Nov 1994 08:49:37 GMT",
    "Sun, 31 Nov 1994 08:49:37 GMT",
    "Tue, 29 Feb 1900 00:00:00 GMT",
    "Sun, 06 Foo 1994 08:49:37 GMT",
    "Sunday, 06-Nov-1994 08:49:37 GMT",
    "Sun, 06-Nov-94 08:49:37 GMT",
    "Sun Nov 6 08:49:37 1994",
    "1994-11-06T08:49:37Z",
    `${LM_DATE}, ${LM_DATE}`,
  ])("RFC 9110 §5.6.7: %p is not an HTTP-date (null)", (value) => {
    expect(parseHttpDate(value)).toBeNull();
  });

  test("RFC 9110 §5.6.7: round-trips Date#toUTCString for arbitrary whole seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799 }), (seconds) => {
        const ms = seconds * 1000;
        expect(parseHttpDate(new Date(ms).toUTCString())).toBe(ms);
      }),
    );
  });
});

describe("ifRangeMatches", () => {
  test("RFC 9110 §13.1.5: an identical strong entity-tag matches", () => {
    expect(ifRangeMatches(ETAG, ETAG, LM)).toBe(true);
    expect(ifRangeMatches(` ${ETAG} `, ETAG, LM)).toBe(true);
  });

  test("RFC 9110 §13.1.5: a weak entity-tag never matches (strong comparison)", () => {
    expect(ifRangeMatches(`W/${ETAG}`, ETAG, LM)).toBe(false);
    expect(ifRangeMatches('W/"a"', 'W/"a"', LM)).toBe(false);
  });

  test("RFC 9110 §13.1.5: a different or malformed entity-tag does not match", () => {
    expect(ifRangeMatches('"other"', ETAG, LM)).toBe(false);
    expect(ifRangeMatches(`${ETAG}, "x"`, ETAG, LM)).toBe(false);
    expect(ifRangeMatches('"unterminated', ETAG, LM)).toBe(false);
    expect(ifRangeMatches("*", ETAG, LM)).toBe(false);
  });

  test("RFC 9110 §13.1.5: an HTTP-date matches only when it equals Last-Modified exactly", () => {
    expect(ifRangeMatches(LM_DATE, ETAG, LM)).toBe(true);
    expect(ifRangeMatches("Sunday, 06-Nov-94 08:49:37 GMT", ETAG, LM)).toBe(true);
    expect(ifRangeMatches(AFTER, ETAG, LM)).toBe(false);
    expect(ifRangeMatches(BEFORE, ETAG, LM)).toBe(false);
  });

  test("RFC 9110 §13.1.5: garbage is neither a tag nor a date and does not match", () => {
    expect(ifRangeMatches("", ETAG, LM)).toBe(false);
    expect(ifRangeMatches("tomorrow", ETAG, LM)).toBe(false);
  });
});
