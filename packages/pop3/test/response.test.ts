import { describe, expect, it } from "vitest";
import { challenge, encodeResponse, err, ok } from "../src/response.js";
import { ResponseCode, withCode } from "../src/response-codes.js";

const wire = (r: Parameters<typeof encodeResponse>[0]) => encodeResponse(r).toString("latin1");

describe("POP3 response encoder (RFC 1939 §3, RFC 2449 §8, RFC 5034 §4)", () => {
  it("sends a status line with CRLF, the text after one space", () => {
    expect(wire(ok("2 320"))).toBe("+OK 2 320\r\n");
    expect(wire(err("no such message"))).toBe("-ERR no such message\r\n");
    expect(wire(ok(""))).toBe("+OK\r\n");
  });

  it("puts a response code in brackets first (RFC 2449 §8)", () => {
    expect(wire(err(withCode(ResponseCode.inUse, "maildrop is locked")))).toBe("-ERR [IN-USE] maildrop is locked\r\n");
    expect(wire(err(withCode(ResponseCode.auth, "bad password")))).toBe("-ERR [AUTH] bad password\r\n");
    expect(wire(err(withCode(ResponseCode.sysTemp, "later")))).toBe("-ERR [SYS/TEMP] later\r\n");
    expect(wire(err(withCode(ResponseCode.sysPerm, "gone")))).toBe("-ERR [SYS/PERM] gone\r\n");
  });

  it("byte-stuffs a multi-line body and ends it with a lone dot", () => {
    expect(wire(ok("follows", ["a", ".b", "..", ""]))).toBe("+OK follows\r\na\r\n..b\r\n...\r\n\r\n.\r\n");
    expect(wire(ok("empty", []))).toBe("+OK empty\r\n.\r\n");
  });

  it("sends a SASL challenge as '+' and a space, even when empty", () => {
    expect(wire(challenge(""))).toBe("+ \r\n");
    expect(wire(challenge("abc="))).toBe("+ abc=\r\n");
  });
});
