import { describe, expect, it } from "vitest";
import { parseReturnOptions } from "../src/syntax/search.js";
import { parseCommand, type Token } from "../src/index.js";
import { resultToSave, savedUids, sequenceSetOf } from "../src/searchres.js";
import { setArgument } from "../src/syntax/arguments.js";

function args(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

describe("SEARCHRES (RFC 5182)", () => {
  const sel = { saved: [3, 7, 9], uids: [1, 3, 5, 9, 12] }; // UID 7 was expunged since the SAVE

  it("$ names the saved messages that still exist, as UIDs or as their sequence numbers now (§2.1)", () => {
    expect(savedUids(sel)).toEqual([3, 9]);
    const set = (text: string) => setArgument({ type: "atom", value: text })!;
    expect(sequenceSetOf(sel, set("$"), true)).toEqual([[3, 3], [9, 9]]);
    expect(sequenceSetOf(sel, set("$"), false)).toEqual([[2, 2], [4, 4]]);
    expect(sequenceSetOf({ saved: [], uids: [1] }, set("$"), false)).toEqual([]);
    expect(sequenceSetOf(sel, set("2:4"), false)).toEqual([[2, 4]]);
    expect(setArgument({ type: "atom", value: "$,1" })).toBeUndefined();
  });

  it.each([
    [["SAVE"], [2, 4, 6], [2, 4, 6]],
    [["SAVE", "MIN"], [2, 4, 6], [2]],
    [["SAVE", "MAX"], [2, 4, 6], [6]],
    [["SAVE", "MIN", "MAX"], [2, 4, 6], [2, 6]],
    [["SAVE", "MIN", "COUNT"], [2, 4, 6], [2, 4, 6]],
    [["SAVE", "MAX", "ALL"], [2, 4, 6], [2, 4, 6]],
    [["SAVE", "MIN"], [], []],
  ])("RETURN (%j) over %j saves %j (§2.4)", (options, found, saved) => {
    expect(resultToSave(found, new Set(options))).toEqual(saved);
  });

  it("RETURN (SAVE) is read for SEARCH, and refused for SORT", () => {
    const r = parseReturnOptions(args("a SEARCH RETURN (SAVE MIN) ALL").slice(0));
    expect(r?.save).toBe(true);
    expect([...r!.options]).toEqual(["MIN"]);
    expect(() => parseReturnOptions(args("a SORT RETURN (SAVE) (DATE) UTF-8 ALL"), "SORT")).toThrow(/unknown result option SAVE/);
  });
});
