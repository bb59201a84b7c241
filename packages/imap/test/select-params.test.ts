import { describe, expect, it } from "vitest";
import { parseCommand, type Token } from "../src/index.js";
import { inRanges, parseSelectParams, SelectParamError } from "../src/syntax/select.js";

function args(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

/** The parameters of `SELECT INBOX <rest>`. */
const parse = (rest: string) => {
  const a = args(`a SELECT INBOX ${rest}`.trimEnd());
  return parseSelectParams(a[1], a.slice(2));
};

describe("SELECT parameters (RFC 4466 §2.1, RFC 7162 §7)", () => {
  it.each([
    ["", { condstore: false }],
    ["(CONDSTORE)", { condstore: true }],
    ["(qresync (67890007 20050715194045))", { condstore: false, qresync: { uidValidity: 67890007, modseq: 20050715194045 } }],
    [
      "(QRESYNC (67890007 90060115194045 41:211,214:541))",
      { condstore: false, qresync: { uidValidity: 67890007, modseq: 90060115194045, knownUids: [[41, 211], [214, 541]] } },
    ],
    [
      // RFC 7162 §3.2.5.2's example: known UIDs, then message numbers and their UIDs.
      "(QRESYNC (67890007 90060115194045 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))",
      {
        condstore: false,
        qresync: {
          uidValidity: 67890007,
          modseq: 90060115194045,
          knownUids: [[1, 29997]],
          seqMatch: {
            seqs: [[5000, 5000], [7500, 7500], [9000, 9000], [9990, 9999]],
            uids: [15000, 22500, 27000, 29970, 29973, 29976, 29979, 29982, 29985, 29988, 29991, 29994, 29997].map((u) => [u, u]),
          },
        },
      },
    ],
    ["(QRESYNC (1 2 (1:2 5,9)))", { condstore: false, qresync: { uidValidity: 1, modseq: 2, seqMatch: { seqs: [[1, 2]], uids: [[5, 5], [9, 9]] } } }],
    ["(QRESYNC (4294967295 9223372036854775807))", { condstore: false, qresync: { uidValidity: 4294967295, modseq: Number.MAX_SAFE_INTEGER } }],
    ["(CONDSTORE QRESYNC (1 2 3:1))", { condstore: true, qresync: { uidValidity: 1, modseq: 2, knownUids: [[1, 3]] } }],
  ])("reads %j", (rest, expected) => {
    expect(parse(rest)).toEqual(expected);
  });

  it.each([
    ["CONDSTORE", /parenthesized list/],
    ["(CONDSTORE) (CONDSTORE)", /one parameter list/],
    ["(FROB)", /unknown SELECT parameter FROB/],
    ["(CONDSTORE CONDSTORE)", /CONDSTORE given twice/],
    ["(QRESYNC)", /parenthesized list/],
    ["(QRESYNC 1)", /parenthesized list/],
    ["(QRESYNC (1))", /a UIDVALIDITY, a MODSEQ/],
    ["(QRESYNC (0 5))", /UIDVALIDITY must be a positive number/],
    ["(QRESYNC (1 0))", /mod-sequence must be a positive number/],
    ["(QRESYNC (1 x))", /mod-sequence must be a positive number/],
    ["(QRESYNC (1 9223372036854775808))", /mod-sequence 9223372036854775808 is too large/],
    ["(QRESYNC (4294967296 1))", /UIDVALIDITY 4294967296 is too large/],
    ["(QRESYNC (1 2 1:*))", /known UIDs must not contain \*/],
    ["(QRESYNC (1 2 a:b))", /known UIDs must be a sequence set/],
    ["(QRESYNC (1 2 1:5 (1:2)))", /sequence match data is/],
    ["(QRESYNC (1 2 1:5 (1:2 3)))", /differ in length/],
    ["(QRESYNC (1 2 1:5 (1:* 3:4)))", /known sequence set must not contain \*/],
    ["(QRESYNC (1 2 1:5 (1 3) 7))", /QRESYNC takes/],
    ["(QRESYNC (1 2 (1 3) 7))", /unexpected argument/],
    ["(QRESYNC (1 2) QRESYNC (1 2))", /QRESYNC given twice/],
  ])("refuses %j as BAD: %s", (rest, text) => {
    let error: unknown;
    try {
      parse(rest);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SelectParamError);
    expect((error as Error).message).toMatch(text);
  });

  it("tells whether a UID is among the known ones; no list means all", () => {
    expect(inRanges(undefined, 7)).toBe(true);
    expect(inRanges([[1, 3], [9, 9]], 9)).toBe(true);
    expect(inRanges([[1, 3], [9, 9]], 4)).toBe(false);
  });
});
