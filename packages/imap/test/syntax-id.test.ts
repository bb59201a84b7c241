import { describe, expect, it } from "vitest";
import { parseId } from "../src/syntax/id.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("ID arguments (RFC 2971 §3.1)", () => {
  it.each([
    // RFC 2971 §3.1's example.
    ['a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")', "list"],
    ["a ID NIL", "atom"],
  ])("%s reads as one %s", (line, type) => {
    expect(parseId(argsOf(line)).type).toBe(type);
  });

  it.each(["a ID", 'a ID ("name" "x") NIL'])("%s is BAD", (line) => {
    expect(refusalOf(() => parseId(argsOf(line)))).toEqual({ status: "BAD", text: "ID takes one list or NIL" });
  });
});
