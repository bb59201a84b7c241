import { describe, expect, it } from "vitest";
import { decodePlainResponse, parseAuthenticate } from "../src/syntax/authenticate.js";
import { argsOf, refusalOf } from "./command-line.js";

const plain = (s: string) => Buffer.from(s).toString("base64");

describe("AUTHENTICATE arguments (RFC 3501 §6.2.2, RFC 4616, RFC 4959)", () => {
  it.each([
    ["a AUTHENTICATE PLAIN", { mechanism: "PLAIN" }],
    ["a authenticate plain =", { mechanism: "PLAIN", initialResponse: "=" }],
    // RFC 4959 §3's initial response.
    [`a AUTHENTICATE PLAIN ${plain("\0tim\0tanstaaftanstaaf")}`, { mechanism: "PLAIN", initialResponse: plain("\0tim\0tanstaaftanstaaf") }],
  ])("%s reads as %j", (line, request) => {
    expect(parseAuthenticate(argsOf(line))).toEqual(request);
  });

  it.each([
    ["a AUTHENTICATE", { status: "BAD", text: "the SASL mechanism is missing or not a string" }],
    ["a AUTHENTICATE CRAM-MD5", { status: "NO", code: "CANNOT", text: "unsupported mechanism CRAM-MD5; use PLAIN" }],
    // The mechanism is answered before the initial response is read.
    ["a AUTHENTICATE GSSAPI (x)", { status: "NO", code: "CANNOT", text: "unsupported mechanism GSSAPI; use PLAIN" }],
    ["a AUTHENTICATE PLAIN (x)", { status: "BAD", text: "the initial response is missing or not a string" }],
  ])("%s is refused: %j", (line, refusal) => {
    expect(refusalOf(() => parseAuthenticate(argsOf(line)))).toEqual(refusal);
  });

  it.each([
    // RFC 4616 §4's examples.
    [plain("\0tim\0tanstaaftanstaaf"), { authzid: "", authcid: "tim", password: "tanstaaftanstaaf" }],
    [plain("Ursel\0Kurt\0xipj3plmq"), { authzid: "Ursel", authcid: "Kurt", password: "xipj3plmq" }],
    [plain("\0fred@example.com\0pässword"), { authzid: "", authcid: "fred@example.com", password: "pässword" }],
  ])("PLAIN response %s is %j", (response, credentials) => {
    expect(decodePlainResponse(response)).toEqual(credentials);
  });

  it.each([
    ["*", "AUTHENTICATE cancelled"],
    ["=", "malformed PLAIN response"],
    [plain("tim\0secret"), "malformed PLAIN response"],
    [plain("\0a\0b\0c"), "malformed PLAIN response"],
    ["AHRpbQB0YW5z!!", "malformed PLAIN response"],
  ])("PLAIN response %j is BAD: %s", (response, text) => {
    expect(refusalOf(() => decodePlainResponse(response))).toEqual({ status: "BAD", text });
  });
});
