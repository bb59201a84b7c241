import { describe, expect, it } from "vitest";
import type { SelectedMailbox } from "../src/command.js";
import { searchKeyOf } from "../src/commands/search.js";
import { parseReturnOptions, parseSearchCriteria } from "../src/syntax/search.js";
import { argsOf, refusalOf } from "./command-line.js";

/** SEARCH's criteria after its RETURN (...), as the command reads them. */
const criteria = (line: string, rev2 = false) => {
  const args = argsOf(line);
  return parseSearchCriteria(parseReturnOptions(args)?.rest ?? args, { rev2 });
};

const BADCHARSET = { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)" };

describe("SEARCH arguments (RFC 3501 §6.4.4, RFC 4731, RFC 5032, RFC 5182, RFC 7162, RFC 8474)", () => {
  it.each([
    // RFC 3501 §6.4.4's examples.
    ["a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", [
      { key: "flag", flag: "\\Flagged", set: true },
      { key: "date", field: "internal", op: "since", day: "1994-02-01" },
      { key: "not", inner: { key: "header", field: "from", value: "Smith" } },
    ]],
    ["a SEARCH TEXT \"string not in mailbox\"", [{ key: "text", value: "string not in mailbox" }]],
    ["a SEARCH CHARSET UTF-8 TEXT \"grüße\"", [{ key: "text", value: "grüße" }]],
    ["a SEARCH charset us-ascii ALL", [{ key: "all" }]],
    ["a SEARCH OR (SEEN UNANSWERED) DELETED", [
      { key: "or", left: { key: "and", keys: [{ key: "flag", flag: "\\Seen", set: true }, { key: "flag", flag: "\\Answered", set: false }] }, right: { key: "flag", flag: "\\Deleted", set: true } },
    ]],
    ["a SEARCH (DRAFT)", [{ key: "flag", flag: "\\Draft", set: true }]],
    ["a SEARCH KEYWORD $Junk UNKEYWORD work", [{ key: "flag", flag: "$Junk", set: true }, { key: "flag", flag: "work", set: false }]],
    ["a SEARCH SENTBEFORE 2-Mar-2020 ON 3-Mar-2020", [
      { key: "date", field: "sent", op: "before", day: "2020-03-02" },
      { key: "date", field: "internal", op: "on", day: "2020-03-03" },
    ]],
    ["a SEARCH LARGER 100 SMALLER 2000", [{ key: "size", op: "larger", octets: 100 }, { key: "size", op: "smaller", octets: 2000 }]],
    ["a SEARCH HEADER Message-ID <x@y> BODY hello TO bob CC carol BCC dave SUBJECT hi", [
      { key: "header", field: "Message-ID", value: "<x@y>" },
      { key: "body", value: "hello" },
      { key: "header", field: "to", value: "bob" },
      { key: "header", field: "cc", value: "carol" },
      { key: "header", field: "bcc", value: "dave" },
      { key: "header", field: "subject", value: "hi" },
    ]],
    ["a SEARCH RECENT NEW OLD", [{ key: "recent" }, { key: "new" }, { key: "old" }]],
    ["a SEARCH 1:3,5 UID 10:* $ UID $", [{ key: "sequence", set: [[1, 3], [5, 5]] }, { key: "uids", set: [[10, "*"]] }, { key: "saved" }, { key: "saved" }]],
    // RFC 5032 §2, RFC 7162 §3.1.5, RFC 8474 §6.
    ["a SEARCH YOUNGER 259200 OLDER 60", [{ key: "within", op: "since", seconds: 259200 }, { key: "within", op: "before", seconds: 60 }]],
    ["a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338", [{ key: "modseq", modseq: 620162338 }]],
    ["a SEARCH MODSEQ 12", [{ key: "modseq", modseq: 12 }]],
    [`a SEARCH EMAILID M${"ab".repeat(32)} EMAILID Mabc123 THREADID T1`, [{ key: "blob", blobId: "ab".repeat(32) }, { key: "none" }, { key: "none" }]],
    ["a SEARCH RETURN (MIN COUNT) UNSEEN", [{ key: "flag", flag: "\\Seen", set: false }]],
  ])("%s reads as %j", (line, keys) => {
    expect(criteria(line)).toEqual(keys);
  });

  it.each([
    ["a SEARCH", { status: "BAD", text: "SEARCH needs criteria" }],
    ["a SEARCH CHARSET UTF-8", { status: "BAD", text: "SEARCH needs criteria" }],
    ["a SEARCH CHARSET (x) ALL", { status: "BAD", text: "the charset is missing or not a string" }],
    ["a SEARCH CHARSET KOI8-R ALL", { ...BADCHARSET, text: "charset KOI8-R is not supported" }],
    // The charset is answered before the criteria are read.
    ["a SEARCH CHARSET KOI8-R FROB", { ...BADCHARSET, text: "charset KOI8-R is not supported" }],
    ["a SEARCH FROB", { status: "BAD", text: "SEARCH: unknown key FROB" }],
    ["a SEARCH FROM", { status: "BAD", text: "SEARCH: the string is missing" }],
    ["a SEARCH FROM (x)", { status: "BAD", text: "FROM is missing or not a string" }],
    ["a SEARCH NOT", { status: "BAD", text: "SEARCH: a search key is missing" }],
    ["a SEARCH OR SEEN", { status: "BAD", text: "SEARCH: a search key is missing" }],
    ["a SEARCH ()", { status: "BAD", text: "SEARCH: empty parenthesized key" }],
    ['a SEARCH "ALL"', { status: "BAD", text: "SEARCH: expected a search key" }],
    ["a SEARCH SINCE 1994-02-01", { status: "BAD", text: "1994-02-01 is not a date like 1-Feb-2024" }],
    ["a SEARCH BEFORE", { status: "BAD", text: "SEARCH: the date is missing" }],
    ["a SEARCH LARGER many", { status: "BAD", text: "LARGER must be a number" }],
    ["a SEARCH OLDER 0", { status: "BAD", text: "SEARCH OLDER: the interval must be a non-zero number of seconds" }],
    ["a SEARCH YOUNGER -5", { status: "BAD", text: "YOUNGER must be a number" }],
    ["a SEARCH UID x", { status: "BAD", text: "SEARCH UID: invalid set" }],
    ["a SEARCH UID", { status: "BAD", text: "SEARCH: the UID set is missing" }],
    ["a SEARCH EMAILID not-an-id!", { status: "BAD", text: "SEARCH EMAILID: not-an-id! is not an object id" }],
    ["a SEARCH THREADID (x)", { status: "BAD", text: "SEARCH THREADID: (a list) is not an object id" }],
    ["a SEARCH MODSEQ x", { status: "BAD", text: "SEARCH: the entry type is missing" }],
    ["a SEARCH MODSEQ \"/flags/x\" all y", { status: "BAD", text: "MODSEQ must be a number" }],
    ["a SEARCH HEADER Subject", { status: "BAD", text: "SEARCH: the string is missing" }],
    ["a SEARCH RETURN ALL", { status: "BAD", text: "SEARCH RETURN needs a parenthesized list of result options" }],
    ["a SEARCH RETURN (FROB) ALL", { status: "BAD", text: "SEARCH RETURN: unknown result option FROB" }],
    ["a SEARCH RETURN (PARTIAL 1:10 PARTIAL 1:5) ALL", { status: "BAD", text: "SEARCH RETURN: PARTIAL given twice" }],
    ["a SEARCH RETURN (PARTIAL 0:5) ALL", { status: "BAD", text: "SEARCH RETURN PARTIAL needs a range of positions low:high (nz-number:nz-number), not 0:5" }],
    ["a SEARCH RETURN (PARTIAL 1:4294967296) ALL", { status: "BAD", text: "SEARCH RETURN PARTIAL: 1:4294967296 is out of range" }],
    ["a SEARCH RETURN (PARTIAL 1:5 ALL) ALL", { status: "BAD", text: "SEARCH RETURN: PARTIAL and ALL exclude each other" }],
  ])("%s is refused: %j", (line, refusal) => {
    expect(refusalOf(() => criteria(line))).toEqual(refusal);
  });

  it.each(["RECENT", "NEW", "OLD"])("IMAP4rev2 has no %s key (RFC 9051 Appendix E)", (key) => {
    expect(refusalOf(() => criteria(`a SEARCH ${key}`, true))).toEqual({ status: "BAD", text: `SEARCH: IMAP4rev2 has no ${key} key (RFC 9051 removed \\Recent)` });
  });

  it.each([
    ["a SEARCH RETURN () ALL", { options: ["ALL"], update: false, save: false }],
    ["a SEARCH RETURN (MIN MAX COUNT CONTEXT) ALL", { options: ["MIN", "MAX", "COUNT"], update: false, save: false }],
    ["a SEARCH RETURN (PARTIAL -1:-100) ALL", undefined],
    ["a SEARCH RETURN (PARTIAL 23500:23000 UPDATE SAVE) ALL", { options: [], partial: [23000, 23500], update: true, save: true }],
    ["a SEARCH ALL", null],
  ])("%s returns %j", (line, expected) => {
    const args = argsOf(line);
    if (expected === undefined) {
      expect(refusalOf(() => parseReturnOptions(args)).status).toBe("BAD");
      return;
    }
    const r = parseReturnOptions(args);
    if (expected === null) expect(r).toBeUndefined();
    else expect({ ...r, options: [...r!.options], rest: undefined }).toEqual({ ...expected, rest: undefined });
  });
});

describe("SEARCH keys resolved against the selected mailbox", () => {
  const sel = { uids: [2, 4, 5, 6, 9], recent: new Set([5, 6, 9]), saved: [4, 7] } as unknown as SelectedMailbox;

  it.each([
    ["a SEARCH 2:3,*", { key: "uid", ranges: [[4, 4], [5, 5], [9, 9]] }],
    ["a SEARCH UID 5:*", { key: "uid", ranges: [[5, 9]] }],
    ["a SEARCH $", { key: "uid", ranges: [[4, 4]] }],
    ["a SEARCH RECENT", { key: "uid", ranges: [[5, 6], [9, 9]] }],
    ["a SEARCH OLD", { key: "not", inner: { key: "uid", ranges: [[5, 6], [9, 9]] } }],
    ["a SEARCH NEW", { key: "and", keys: [{ key: "uid", ranges: [[5, 6], [9, 9]] }, { key: "flag", flag: "\\Seen", set: false }] }],
    ["a SEARCH OR (UID 1:2 SEEN) NOT 1", {
      key: "or",
      left: { key: "and", keys: [{ key: "uid", ranges: [[1, 2]] }, { key: "flag", flag: "\\Seen", set: true }] },
      right: { key: "not", inner: { key: "uid", ranges: [[2, 2]] } },
    }],
  ])("%s is %j", (line, key) => {
    expect(searchKeyOf(criteria(line), sel)).toEqual(key);
  });

  it("counts WITHIN's seconds back from now (RFC 5032)", () => {
    const before = Date.now();
    const key = searchKeyOf(criteria("a SEARCH YOUNGER 60"), sel);
    expect(key).toMatchObject({ key: "instant", op: "since" });
    const at = (key as { at: number }).at;
    expect(at).toBeGreaterThanOrEqual(before - 60_000);
    expect(at).toBeLessThanOrEqual(Date.now() - 60_000);
  });

  it("has no \\Recent message to name when none is recent", () => {
    const quiet = { ...sel, recent: new Set() } as unknown as SelectedMailbox;
    expect(searchKeyOf(criteria("a SEARCH RECENT"), quiet)).toEqual({ key: "none" });
  });
});
