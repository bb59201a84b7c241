import { describe, expect, it } from "vitest";
import { untagged } from "../src/encoder.js";
import { changeItems, contextChanges } from "../src/context.js";

const text = (items: ReturnType<typeof changeItems>) => untagged([{ atom: "ESEARCH" }, ...items]).toString().trimEnd();

/** Applies the changes as a client does (RFC 5267 §4.3.2: in order, each at its position). */
function apply(before: number[], { removed, added }: ReturnType<typeof contextChanges>): number[] {
  const list = [...before];
  for (const r of removed) {
    expect(list[r.position - 1]).toBe(r.uid);
    list.splice(r.position - 1, 1);
  }
  for (const a of added) list.splice(a.position - 1, 0, a.uid);
  return list;
}

describe("context changes (RFC 5267 §4.3)", () => {
  it.each([
    [[1, 2, 3], [1, 2, 3]],
    [[], [4, 5]],
    [[1, 2, 3], []],
    [[10, 20, 30, 40], [5, 20, 35, 40, 50]],
    // A sorted context: the order is not the UIDs'.
    [[30, 10, 20], [40, 30, 20, 15]],
  ])("turns %j into %j", (before, after) => {
    const changes = contextChanges(before, after);
    expect(apply(before, changes)).toEqual(after);
  });

  it("removes from the last position back and adds from the first on", () => {
    const c = contextChanges([1, 2, 3, 4], [2, 5, 4, 6]);
    expect(c.removed).toEqual([
      { position: 3, uid: 3 },
      { position: 1, uid: 1 },
    ]);
    expect(c.added).toEqual([
      { position: 2, uid: 5 },
      { position: 4, uid: 6 },
    ]);
  });
});

describe("ADDTO / REMOVEFROM items (RFC 5267 §4.3.3, §4.3.4)", () => {
  const seq = (uid: number) => uid / 10;
  it("gives a SEARCH context one set at position 0, ascending", () => {
    const changes = [
      { position: 4, uid: 40 },
      { position: 1, uid: 10 },
      { position: 2, uid: 20 },
    ];
    expect(text(changeItems("ADDTO", changes, false, seq))).toBe("* ESEARCH ADDTO (0 1:2,4)");
    expect(text(changeItems("REMOVEFROM", changes, false, (u) => u))).toBe("* ESEARCH REMOVEFROM (0 10,20,40)");
  });
  it("gives a SORT context one item per message at its position", () => {
    expect(text(changeItems("ADDTO", [{ position: 1, uid: 50 }, { position: 3, uid: 20 }], true, seq))).toBe("* ESEARCH ADDTO (1 5) ADDTO (3 2)");
  });
  it("gives nothing for no change", () => {
    expect(changeItems("ADDTO", [], false, seq)).toEqual([]);
  });
});
