import { describe, expect, it } from "vitest";
import { parseSelect, SelectParamError } from "../src/syntax/select.js";
import { argsOf, refusalOf } from "./command-line.js";

/** The mailbox and parameters of SELECT / EXAMINE; the parameters alone are in test/select-params.test.ts. */
describe("SELECT and EXAMINE arguments (RFC 3501 §6.3.1, §6.3.2)", () => {
  it.each([
    // RFC 3501 §6.3.1 and RFC 7162 §3.1.8's examples.
    ["A142 SELECT INBOX", "SELECT", { mailbox: "INBOX", params: { condstore: false } }],
    ["A932 EXAMINE blurdybloop", "EXAMINE", { mailbox: "blurdybloop", params: { condstore: false } }],
    ['a SELECT "Sent Items" (CONDSTORE)', "SELECT", { mailbox: "Sent Items", params: { condstore: true } }],
  ])("%s reads as %j", (line, command, request) => {
    expect(parseSelect(argsOf(line), command)).toEqual(request);
  });

  it.each([
    ["a SELECT", "SELECT", "SELECT takes a mailbox name"],
    ["a EXAMINE", "EXAMINE", "EXAMINE takes a mailbox name"],
    ["a SELECT (INBOX)", "SELECT", "the mailbox name is missing or not a string"],
  ])("%s is BAD: %s", (line, command, text) => {
    expect(refusalOf(() => parseSelect(argsOf(line), command))).toEqual({ status: "BAD", text });
  });

  it("reads the name before the parameters", () => {
    expect(refusalOf(() => parseSelect(argsOf("a SELECT (INBOX) (FROB)"), "SELECT")).text).toBe("the mailbox name is missing or not a string");
    expect(() => parseSelect(argsOf("a SELECT INBOX (FROB)"), "SELECT")).toThrow(SelectParamError);
  });
});
