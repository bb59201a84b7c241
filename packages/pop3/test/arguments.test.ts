import { describe, expect, it } from "vitest";
import { parseLineCount, parseMessageNumber } from "../src/syntax/arguments.js";

describe("msg arguments (RFC 1939 §3: messages are numbered from 1)", () => {
  const table: [string | undefined, number | undefined][] = [
    ["1", 1],
    ["42", 42],
    ["9999999999", 9999999999],
    ["0", undefined],
    ["01", undefined],
    ["-1", undefined],
    ["+1", undefined],
    ["1.0", undefined],
    ["1e3", undefined],
    ["12345678901", undefined],
    ["", undefined],
    ["one", undefined],
    [undefined, undefined],
  ];
  it.each(table)("%j → %j", (arg, expected) => expect(parseMessageNumber(arg)).toBe(expected));
});

describe("TOP's line count (RFC 1939 §7: a non-negative number of lines)", () => {
  const table: [string | undefined, number | undefined][] = [
    ["0", 0],
    ["10", 10],
    ["007", 7],
    ["999999999", 999999999],
    ["1000000000", undefined],
    ["-1", undefined],
    ["", undefined],
    ["x", undefined],
    [undefined, undefined],
  ];
  it.each(table)("%j → %j", (arg, expected) => expect(parseLineCount(arg)).toBe(expected));
});
