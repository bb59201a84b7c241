import { describe, expect, it } from "vitest";
import { parseEnable } from "../src/syntax/enable.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("ENABLE arguments (RFC 5161 §3)", () => {
  it.each([
    // RFC 5161 §4's example.
    ["t2 ENABLE CONDSTORE X-GOOD-IDEA", ["CONDSTORE", "X-GOOD-IDEA"]],
    ["a ENABLE utf8=accept imap4rev2 qresync", ["UTF8=ACCEPT", "IMAP4REV2", "QRESYNC"]],
  ])("%s reads as %j", (line, names) => {
    expect(parseEnable(argsOf(line))).toEqual(names);
  });

  it.each([
    ["a ENABLE", "ENABLE needs at least one capability"],
    ['a ENABLE CONDSTORE "QRESYNC"', "capabilities are atoms"],
    ["a ENABLE (CONDSTORE)", "capabilities are atoms"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseEnable(argsOf(line)))).toEqual({ status: "BAD", text });
  });
});
