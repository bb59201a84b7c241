import { describe, expect, it } from "vitest";
import { challenge, encodeResponse, err, ok, okStreamed, responseChunks } from "../src/response.js";
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

  it("sends a listing with nothing to stuff as the same octets (the joined fast path), UTF-8 included", () => {
    expect(wire(ok("listing follows", ["1 120", "2 4096"]))).toBe("+OK listing follows\r\n1 120\r\n2 4096\r\n.\r\n");
    expect(wire(ok("", [""]))).toBe("+OK\r\n\r\n.\r\n");
    expect(encodeResponse(ok("x", ["é"]))).toEqual(Buffer.from("+OK x\r\né\r\n.\r\n", "utf8"));
    // A line with a dot still goes through the stuffing.
    expect(wire(ok("x", ["1 a", ".2"]))).toBe("+OK x\r\n1 a\r\n..2\r\n.\r\n");
  });

  it("sends a SASL challenge as '+' and a space, even when empty", () => {
    expect(wire(challenge(""))).toBe("+ \r\n");
    expect(wire(challenge("abc="))).toBe("+ abc=\r\n");
  });
});

describe("streamed responses (RETR)", () => {
  const collect = async (r: Parameters<typeof responseChunks>[0]) => {
    const writes: string[] = [];
    for await (const b of responseChunks(r)) writes.push(b.toString("latin1"));
    return writes;
  };

  it("sends a message the store gave whole as one write: status, stuffed body, '.'", async () => {
    expect(await collect(okStreamed("12 octets", Buffer.from("a\r\n.b\r\nc\r\n")))).toEqual(["+OK 12 octets\r\na\r\n..b\r\nc\r\n.\r\n"]);
  });

  it("sends the status line with the first chunk of a chunked message, stuffing across chunk edges", async () => {
    async function* chunks() {
      yield Buffer.from("a\r");
      yield Buffer.from("\n.b");
      yield Buffer.from("\r\n");
    }
    const writes = await collect(okStreamed("7 octets", chunks()));
    expect(writes[0]!.startsWith("+OK 7 octets\r\na")).toBe(true);
    expect(writes.join("")).toBe("+OK 7 octets\r\na\r\n..b\r\n.\r\n");
  });

  it("ends an empty message with the status line and '.' alone", async () => {
    async function* none() {}
    expect((await collect(okStreamed("0 octets", none()))).join("")).toBe("+OK 0 octets\r\n.\r\n");
  });
});
