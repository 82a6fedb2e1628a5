let cachedSecond = -1;
let cachedValue = "";

/**
 * The current time as an IMF-fixdate (RFC 9110 §5.6.7), computed at most once per second.
 * Bun adds Date itself to most responses but not to answers to HEAD, so the handler adds it there.
 * `httpDate(0)` -> `"Thu, 01 Jan 1970 00:00:00 GMT"`.
 */
export function httpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedValue = new Date(second * 1000).toUTCString();
  }
  return cachedValue;
}
