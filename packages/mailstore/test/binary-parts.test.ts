/**
 * A literal8 APPEND's binary parts are stored base64-encoded (RFC 3516 §4.2, as Dovecot
 * does), so the stored message is 8-bit clean text and BINARY[part] decodes back to the
 * very octets appended.
 */
import { describe, expect, it } from "vitest";
import { binaryContent } from "@correo/imap";
import { binaryPartsAsBase64, describeMessage } from "../src/index.js";

const b = (s: string) => Buffer.from(s, "latin1");
const octets = "\x00\x01\xff\r\n\rbinary\n";

describe("binaryPartsAsBase64", () => {
  it("re-encodes a top-level binary body and says so in the header, keeping the other fields", () => {
    const raw = b(`From: a@x.test\r\nContent-Transfer-Encoding: binary\r\nSubject: s\r\n\r\n${octets}`);
    const stored = binaryPartsAsBase64(raw);
    expect(stored.includes(0)).toBe(false);
    expect(stored.toString("latin1")).toBe(`From: a@x.test\r\nContent-Transfer-Encoding: base64\r\nSubject: s\r\n\r\n${b(octets).toString("base64")}\r\n`);
    const d = describeMessage(stored);
    expect(binaryContent(stored, d.bodyStructure, [1])).toEqual({ bytes: b(octets) });
  });

  it("re-encodes binary parts of a multipart, also inside an attached message, and leaves the rest byte for byte", () => {
    const raw = b(
      [
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "plain \x00 text stays",
        "--b",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: BINARY",
        "",
        octets,
        "--b",
        "Content-Type: message/rfc822",
        "",
        'Content-Type: multipart/mixed; boundary="c"',
        "",
        "--c",
        "Content-Transfer-Encoding:",
        "  binary",
        "",
        octets,
        "--c--",
        "--b--",
        "",
      ].join("\r\n"),
    );
    const stored = binaryPartsAsBase64(raw);
    const text = stored.toString("latin1");
    expect(text).toContain("plain \x00 text stays\r\n--b");
    expect(text.match(/Content-Transfer-Encoding: base64\r\n/g)).toHaveLength(2);
    const d = describeMessage(stored);
    expect(binaryContent(stored, d.bodyStructure, [2])).toEqual({ bytes: b(octets) });
    expect(binaryContent(stored, d.bodyStructure, [3, 1])).toEqual({ bytes: b(octets) });
    expect(binaryContent(stored, d.bodyStructure, [1])).toEqual({ bytes: b("plain \x00 text stays") });
  });

  it("returns the message itself when no part is binary", () => {
    const raw = b("Subject: x\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9\r\n");
    expect(binaryPartsAsBase64(raw)).toBe(raw);
  });
});
