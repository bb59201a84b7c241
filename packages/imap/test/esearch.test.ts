import { describe, expect, it } from "vitest";
import { encodeValue, parseCommand, untagged, type Token } from "../src/index.js";
import { esearchItems, parseReturnOptions } from "../src/commands/search.js";

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
    expect(() => parseReturnOptions(args("a SEARCH RETURN (MIN PARTIAL) ALL"))).toThrow(/unknown result option PARTIAL/);
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
