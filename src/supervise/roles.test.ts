import { describe, expect, test } from "bun:test";
import { decodeSetup, encodeSetup } from "./roles.ts";

describe("encodeSetup / decodeSetup: a role's setup through the environment", () => {
  test("Infinity and -Infinity survive, where plain JSON makes them null", () => {
    const setup = { options: { sendfileMax: Infinity, sendfileLarge: -Infinity, port: 0 } };
    expect(JSON.parse(JSON.stringify(setup)).options.sendfileMax).toBeNull();
    expect(decodeSetup(encodeSetup(setup))).toEqual(setup);
  });

  test("everything else round-trips as JSON: strings that say Infinity stay strings", () => {
    const setup = { a: "Infinity", b: [1, null, { c: true }], d: { nonFinite: "x", e: 1 } };
    expect(decodeSetup(encodeSetup(setup))).toEqual(setup);
  });
});
