import { describe, expect, it } from "vitest";
import { parseCancelupdate } from "../src/syntax/cancelupdate.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("CANCELUPDATE arguments (RFC 5267 §4.3.5)", () => {
  it.each([
    // RFC 5267 §4.3.5's example.
    ['C04 CANCELUPDATE "B01"', ["B01"]],
    ["a CANCELUPDATE s1 s2", ["s1", "s2"]],
  ])("%s reads as %j", (line, tags) => {
    expect(parseCancelupdate(argsOf(line))).toEqual(tags);
  });

  it.each([
    ["a CANCELUPDATE", "CANCELUPDATE needs the tag of at least one context"],
    ["a CANCELUPDATE s1 (s2)", "the context's tag is missing or not a string"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseCancelupdate(argsOf(line)))).toEqual({ status: "BAD", text });
  });
});
