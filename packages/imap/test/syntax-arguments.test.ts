import { describe, expect, it } from "vitest";
import type { Token } from "../src/index.js";
import { ArgumentError, astring, dateTime, flagList, formatDateTime, mailboxArg, nz, searchDay, setArgument } from "../src/syntax/arguments.js";
import { argsOf, refusalOf } from "./command-line.js";

/** The first argument of `a CMD <rest>`. */
const arg = (rest: string): Token | undefined => argsOf(`a CMD ${rest}`.trimEnd())[0];

describe("shared argument readers (RFC 3501 §9)", () => {
  it.each([
    ["INBOX", "INBOX"],
    ['"two words"', "two words"],
    ['"with \\"quote\\""', 'with "quote"'],
    ["a[b]", "a[b]"],
  ])("astring %s is %j", (rest, value) => {
    expect(astring(arg(rest), "the name")).toBe(value);
    expect(mailboxArg(arg(rest))).toBe(value);
  });

  it.each([
    ["", "the name is missing or not a string"],
    ["(a b)", "the name is missing or not a string"],
  ])("astring %j is BAD: %s", (rest, text) => {
    expect(refusalOf(() => astring(arg(rest), "the name"))).toEqual({ status: "BAD", text });
  });

  it("says BAD unless told NO, with the response code to show", () => {
    expect(new ArgumentError("x").status).toBe("BAD");
    const no = new ArgumentError("charset X is not supported", "NO", "BADCHARSET (UTF-8 US-ASCII)");
    expect([no.status, no.code, no.message]).toEqual(["NO", "BADCHARSET (UTF-8 US-ASCII)", "charset X is not supported"]);
  });

  it.each([
    ["(\\Seen)", ["\\Seen"]],
    ["(\\seen \\DELETED $Junk)", ["\\Seen", "\\Deleted", "$Junk"]],
    ["(\\Seen \\SEEN work Work)", ["\\Seen", "work"]],
    ["()", []],
    ["\\Flagged", ["\\Flagged"]],
  ])("flag list %s is %j", (rest, flags) => {
    expect(flagList(arg(rest))).toEqual(flags);
  });

  it.each([
    ["(\\Recent)", "\\Recent cannot be set by a client"],
    ["(\\Frob)", "unknown system flag \\Frob"],
    ['("quoted")', "flags must be atoms"],
    ["((nested))", "flags must be atoms"],
  ])("flag list %s is BAD: %s", (rest, text) => {
    expect(refusalOf(() => flagList(arg(rest)))).toEqual({ status: "BAD", text });
  });

  it.each([
    ["1-Feb-1994", "1994-02-01"],
    ["21-dec-2024", "2024-12-21"],
    ['"9-Jul-2001"', "2001-07-09"],
  ])("date %s is %s", (rest, day) => {
    expect(searchDay(arg(rest))).toBe(day);
  });

  it.each([
    ["1994-02-01", "1994-02-01 is not a date like 1-Feb-2024"],
    ["1-Fbr-1994", "1-Fbr-1994 is not a date like 1-Feb-2024"],
    ["", "(missing) is not a date like 1-Feb-2024"],
  ])("date %j is BAD: %s", (rest, text) => {
    expect(refusalOf(() => searchDay(arg(rest)))).toEqual({ status: "BAD", text });
  });

  it("reads an RFC 3501 date-time and writes INTERNALDATE in UTC", () => {
    expect(dateTime("17-Jul-1996 02:44:25 -0700")?.toISOString()).toBe("1996-07-17T09:44:25.000Z");
    expect(dateTime(" 7-Jul-1996 02:44:25 +0000")?.toISOString()).toBe("1996-07-07T02:44:25.000Z");
    expect(dateTime("17-Jul-1996 02:44 -0700")).toBeUndefined();
    expect(dateTime("17-Jux-1996 02:44:25 -0700")).toBeUndefined();
    expect(formatDateTime(new Date("1996-07-07T09:44:25Z"))).toBe("07-Jul-1996 09:44:25 +0000");
  });

  it.each([
    ["17", 17],
    ["0", 0],
  ])("number %s is %d", (rest, n) => {
    expect(nz(arg(rest), "N")).toBe(n);
  });

  it.each(["-1", "1.5", "x", ""])("number %j is BAD", (rest) => {
    expect(refusalOf(() => nz(arg(rest), "N"))).toEqual({ status: "BAD", text: "N must be a number" });
  });

  it.each([
    ["1:4,7,9:*", [[1, 4], [7, 7], [9, "*"]]],
    ["*", [["*", "*"]]],
    ["$", "$"],
    ["0", undefined],
    ["$,1", undefined],
    ["1:", undefined],
    ['"1"', undefined],
    ["(1)", undefined],
  ])("sequence set %s is %j", (rest, set) => {
    expect(setArgument(arg(rest))).toEqual(set);
  });
});
