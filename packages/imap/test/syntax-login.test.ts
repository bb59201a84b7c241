import { describe, expect, it } from "vitest";
import { parseLogin } from "../src/syntax/login.js";
import { argsOf, argsOfWire, literal, refusalOf } from "./command-line.js";

describe("LOGIN arguments (RFC 3501 §6.2.3)", () => {
  it.each([
    // RFC 3501 §6.2.3's example.
    ["a001 LOGIN SMITH SESAME", { user: "SMITH", password: "SESAME" }],
    ['a LOGIN "fred@example.com" "pass word"', { user: "fred@example.com", password: "pass word" }],
  ])("%s reads as %j", (line, request) => {
    expect(parseLogin(argsOf(line))).toEqual(request);
  });

  it("takes a password sent as a literal", () => {
    expect(parseLogin(argsOfWire(`a LOGIN fred ${literal('p"w')}\r\n`))).toEqual({ user: "fred", password: 'p"w' });
  });

  it.each([
    ["a LOGIN fred", "LOGIN takes a user name and a password"],
    ["a LOGIN fred pw extra", "LOGIN takes a user name and a password"],
    ["a LOGIN (fred) pw", "the user name is missing or not a string"],
    ["a LOGIN fred (pw)", "the password is missing or not a string"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseLogin(argsOf(line)))).toEqual({ status: "BAD", text });
  });
});
