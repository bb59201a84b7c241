import { describe, expect, it } from "vitest";
import { encodeValue, parseCommand, untagged, type Token } from "../src/index.js";
import { esearchItems } from "../src/commands/search.js";
import { parseReturnOptions } from "../src/syntax/search.js";

function args(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

const text = (items: Parameters<typeof encodeValue>[0][]) => untagged([{ atom: "ESEARCH" }, ...items]).toString().trimEnd();

describe("RFC 4731 SEARCH RETURN options", () => {
  it("reads the result options and the criteria after them", () => {
    const r = parseReturnOptions(args("a SEARCH RETURN (min COUNT) CHARSET UTF-8 ALL"))!;
    expect([...r.options].sort()).toEqual(["COUNT", "MIN"]);
    expect(r.rest.map((t) => (t.type === "atom" ? t.value : ""))).toEqual(["CHARSET", "UTF-8", "ALL"]);
  });
  it("takes an empty list as ALL (RFC 4731 §3.1)", () => {
    expect([...parseReturnOptions(args("a SEARCH RETURN () SEEN"))!.options]).toEqual(["ALL"]);
  });
  it("is undefined for a plain RFC 3501 SEARCH", () => {
    expect(parseReturnOptions(args("a SEARCH ALL"))).toBeUndefined();
  });
  it("refuses an unknown option and a missing list", () => {
    expect(() => parseReturnOptions(args("a SEARCH RETURN (MIN FOO) ALL"))).toThrow(/unknown result option FOO/);
    expect(() => parseReturnOptions(args("a SEARCH RETURN MIN ALL"))).toThrow(/parenthesized list/);
  });
});

describe("ESEARCH response items", () => {
  const all = new Set(["MIN", "MAX", "ALL", "COUNT"] as const);
  it("gives MIN, MAX, ALL as a compact set and COUNT", () => {
    expect(text(esearchItems(all, [1, 2, 3, 5, 8, 9]))).toBe("* ESEARCH MIN 1 MAX 9 ALL 1:3,5,8:9 COUNT 6");
  });
  it("leaves out MIN, MAX and ALL when nothing matched but keeps COUNT 0", () => {
    expect(text(esearchItems(all, []))).toBe("* ESEARCH COUNT 0");
    expect(text(esearchItems(new Set(["MIN", "MAX", "ALL"] as const), []))).toBe("* ESEARCH");
  });
  it("gives MODSEQ of the returned messages only (RFC 7162 §3.1.5)", () => {
    const modseqs = [10, 40, 20];
    const of = (i: number) => modseqs[i]!;
    expect(text(esearchItems(new Set(["MIN"] as const), [1, 2, 3], of))).toBe("* ESEARCH MIN 1 MODSEQ 10");
    expect(text(esearchItems(new Set(["MAX"] as const), [1, 2, 3], of))).toBe("* ESEARCH MAX 3 MODSEQ 20");
    expect(text(esearchItems(new Set(["MIN", "MAX"] as const), [1, 2, 3], of))).toBe("* ESEARCH MIN 1 MAX 3 MODSEQ 20");
    expect(text(esearchItems(new Set(["ALL"] as const), [1, 2, 3], of))).toBe("* ESEARCH ALL 1:3 MODSEQ 40");
    expect(text(esearchItems(new Set(["COUNT"] as const), [1, 2, 3], of))).toBe("* ESEARCH COUNT 3 MODSEQ 40");
  });
});

describe("RFC 5267 RETURN options: PARTIAL, UPDATE, CONTEXT", () => {
  it("reads PARTIAL low:high, either end first, and UPDATE; CONTEXT is only a hint", () => {
    const r = parseReturnOptions(args("a SEARCH RETURN (PARTIAL 4:2 UPDATE CONTEXT COUNT) ALL"))!;
    expect(r.partial).toEqual([2, 4]);
    expect(r.update).toBe(true);
    expect([...r.options]).toEqual(["COUNT"]);
  });
  it("asks for nothing but the context with UPDATE alone (no implied ALL)", () => {
    const r = parseReturnOptions(args("a SEARCH RETURN (UPDATE) SEEN"))!;
    expect([...r.options]).toEqual([]);
    expect(r.update).toBe(true);
  });
  it.each(["PARTIAL 1", "PARTIAL 1:*", "PARTIAL *:1", "PARTIAL 0:3", "PARTIAL", "PARTIAL 1:2 PARTIAL 3:4", "PARTIAL 1:2 ALL"])("refuses RETURN (%s) with a precise error", (opts) => {
    expect(() => parseReturnOptions(args(`a SEARCH RETURN (${opts}) ALL`))).toThrow(/PARTIAL/);
  });
  it("names the command in its errors", () => {
    expect(() => parseReturnOptions(args("a SORT RETURN (PARTIAL x) (ARRIVAL) UTF-8 ALL"), "SORT")).toThrow(/^SORT RETURN PARTIAL/);
  });
});

describe("ESEARCH PARTIAL and ESORT items (RFC 5267 §3, §4.4)", () => {
  it("gives the numbers at the positions asked, NIL when there are none", () => {
    expect(text(esearchItems(new Set(), [1, 2, 4, 5], undefined, [2, 3]))).toBe("* ESEARCH PARTIAL (2:3 2,4)");
    expect(text(esearchItems(new Set(), [1, 2, 4, 5], undefined, [2, 10]))).toBe("* ESEARCH PARTIAL (2:10 2,4:5)");
    expect(text(esearchItems(new Set(), [1, 2, 3], undefined, [6, 6]))).toBe("* ESEARCH PARTIAL (6:6 NIL)");
  });
  it("keeps sort order in ALL and PARTIAL; MIN and MAX are the lowest and highest", () => {
    expect(text(esearchItems(new Set(["MIN", "MAX", "ALL", "COUNT"] as const), [5, 3, 4, 2, 1]))).toBe("* ESEARCH MIN 1 MAX 5 ALL 5,3:4,2,1 COUNT 5");
    expect(text(esearchItems(new Set(), [5, 3, 4, 2, 1], undefined, [2, 4]))).toBe("* ESEARCH PARTIAL (2:4 3:4,2)");
  });
});
