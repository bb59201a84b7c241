import { describe, expect, it } from "vitest";
import { parseSort } from "../src/syntax/sort.js";
import { argsOf, refusalOf } from "./command-line.js";

const parse = (line: string) => {
  const r = parseSort(argsOf(line), { rev2: false });
  return { ...r, ...(r.returning ? { returning: { ...r.returning, options: [...r.returning.options], rest: undefined } } : {}) };
};

const BADCHARSET = { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)" };

describe("SORT arguments (RFC 5256 §3, RFC 5957, RFC 5267 §3)", () => {
  it.each([
    // RFC 5256 §3's examples.
    ["a SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994", {
      criteria: [{ key: "SUBJECT", reverse: false }],
      keys: [{ key: "date", field: "internal", op: "since", day: "1994-02-01" }],
    }],
    ["a SORT (REVERSE DATE) UTF-8 ALL", { criteria: [{ key: "DATE", reverse: true }], keys: [{ key: "all" }] }],
    ["a UID SORT (REVERSE ARRIVAL FROM) us-ascii UNDELETED UNKEYWORD $Junk", {
      criteria: [{ key: "ARRIVAL", reverse: true }, { key: "FROM", reverse: false }],
      keys: [{ key: "flag", flag: "\\Deleted", set: false }, { key: "flag", flag: "$Junk", set: false }],
    }],
    // RFC 5957 §3
    ["a SORT (DISPLAYFROM reverse DISPLAYTO CC SIZE TO) UTF-8 ALL", {
      criteria: [{ key: "DISPLAYFROM", reverse: false }, { key: "DISPLAYTO", reverse: true }, { key: "CC", reverse: false }, { key: "SIZE", reverse: false }, { key: "TO", reverse: false }],
      keys: [{ key: "all" }],
    }],
    // RFC 5267 §3's example.
    ["a UID SORT RETURN (MIN MAX) (DATE) UTF-8 UNDELETED", {
      returning: { options: ["MIN", "MAX"], update: false, save: false, rest: undefined },
      criteria: [{ key: "DATE", reverse: false }],
      keys: [{ key: "flag", flag: "\\Deleted", set: false }],
    }],
  ])("%s reads as the request", (line, request) => {
    expect(parse(line)).toEqual(request);
  });

  it.each([
    ["a SORT DATE UTF-8 ALL", { status: "BAD", text: "SORT needs a parenthesized list of sort criteria" }],
    ["a SORT () UTF-8 ALL", { status: "BAD", text: "SORT needs a parenthesized list of sort criteria" }],
    ['a SORT ("DATE") UTF-8 ALL', { status: "BAD", text: "SORT: a sort criterion must be an atom" }],
    ["a SORT (REVERSE) UTF-8 ALL", { status: "BAD", text: "SORT: REVERSE must be followed by a sort key" }],
    ["a SORT (REVERSE REVERSE) UTF-8 ALL", { status: "BAD", text: "SORT: REVERSE must be followed by a sort key" }],
    ["a SORT (COLOUR) UTF-8 ALL", { status: "BAD", text: "SORT: unknown sort key COLOUR" }],
    ["a SORT (DATE)", { status: "BAD", text: "the SORT charset is missing or not a string" }],
    ["a SORT (DATE) UTF-8", { status: "BAD", text: "SORT needs search criteria" }],
    // Missing criteria are answered before the charset, the charset before the criteria's syntax.
    ["a SORT (DATE) KOI8-R", { status: "BAD", text: "SORT needs search criteria" }],
    ["a SORT (DATE) KOI8-R FROB", { ...BADCHARSET, text: "charset KOI8-R is not supported" }],
    ["a SORT (DATE) UTF-8 FROB", { status: "BAD", text: "SEARCH: unknown key FROB" }],
    ["a SORT RETURN (SAVE) (DATE) UTF-8 ALL", { status: "BAD", text: "SORT RETURN: unknown result option SAVE" }],
    ["a SORT RETURN (PARTIAL x) (DATE) UTF-8 ALL", { status: "BAD", text: "SORT RETURN PARTIAL needs a range of positions low:high (nz-number:nz-number), not x" }],
  ])("%s is refused: %j", (line, refusal) => {
    expect(refusalOf(() => parse(line))).toEqual(refusal);
  });

  it("refuses RECENT in an IMAP4rev2 session, as SEARCH does", () => {
    expect(refusalOf(() => parseSort(argsOf("a SORT (DATE) UTF-8 RECENT"), { rev2: true })).text).toBe("SEARCH: IMAP4rev2 has no RECENT key (RFC 9051 removed \\Recent)");
  });
});
