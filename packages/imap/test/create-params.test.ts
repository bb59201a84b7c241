import { describe, expect, it } from "vitest";
import { parseCommand, type Token } from "../src/index.js";
import { CreateParamError, parseCreateParams } from "../src/syntax/create.js";

function args(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

const parse = (rest: string) => {
  const a = args(`a CREATE Box ${rest}`.trimEnd());
  return parseCreateParams(a[1], a.slice(2));
};

describe("CREATE parameters (RFC 4466 §2.2, RFC 6154 §3 USE)", () => {
  it.each([
    ["", null],
    ["(USE ())", null],
    ["(USE (\\Junk))", "\\Junk"],
    ["(use (\\sent))", "\\Sent"],
    ["(USE (\\Archive \\archive))", "\\Archive"],
    ["(USE (\\Drafts))", "\\Drafts"],
    ["(USE (\\Trash))", "\\Trash"],
  ])("reads %j as special use %j", (rest, use) => {
    expect(parse(rest)).toEqual({ specialUse: use });
  });

  it.each([
    ["USE", "BAD", undefined, /parenthesized list/],
    ["(USE)", "BAD", undefined, /USE takes a parenthesized list/],
    ["(USE \\Junk)", "BAD", undefined, /USE takes a parenthesized list/],
    ["(FROB (x))", "BAD", undefined, /unknown CREATE parameter FROB/],
    ["(USE (\\Junk) USE (\\Sent))", "BAD", undefined, /USE given twice/],
    ["(USE (Junk))", "BAD", undefined, /a special-use attribute is a flag/],
    ["(USE (\\Junk)) (x)", "BAD", undefined, /one parameter list/],
    ["(USE (\\Junk \\Sent))", "NO", "USEATTR", /one special use/],
    ["(USE (\\All))", "NO", "USEATTR", /virtual mailbox/],
    ["(USE (\\Flagged))", "NO", "USEATTR", /virtual mailbox/],
    ["(USE (\\Important))", "NO", "USEATTR", /unknown special use \\Important/],
  ])("refuses %j with %s [%s]", (rest, status, code, text) => {
    let error: unknown;
    try {
      parse(rest);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CreateParamError);
    expect((error as CreateParamError).status).toBe(status);
    expect((error as CreateParamError).code).toBe(code);
    expect((error as Error).message).toMatch(text);
  });
});
