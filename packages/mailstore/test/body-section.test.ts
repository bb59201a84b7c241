import { describe, expect, it } from "vitest";
import { bodyStructureValue, encodeValue, sectionBytes } from "@correo/imap";
import { describeMessage } from "../src/index.js";

const raw = Buffer.from(
  [
    "Subject: outer",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "first part",
    "--b",
    "Content-Type: message/rfc822",
    "",
    "Subject: inner",
    "From: x@y.z",
    "",
    "inner body",
    "--b--",
    "",
  ].join("\r\n"),
);
const { bodyStructure } = describeMessage(raw);
const section = (path: number[], text: "" | "HEADER" | "TEXT" | "MIME" | "HEADER.FIELDS" = "", fields: string[] = []) =>
  sectionBytes(raw, bodyStructure, { path, text, fields })?.toString();

describe("BODY[section] (RFC 3501 §6.4.5)", () => {
  it("slices parts, MIME headers and encapsulated messages", () => {
    expect(section([])).toBe(raw.toString());
    expect(section([1])).toBe("first part");
    expect(section([1], "MIME")).toBe("Content-Type: text/plain\r\n\r\n");
    expect(section([2], "HEADER")).toBe("Subject: inner\r\nFrom: x@y.z\r\n\r\n");
    expect(section([2], "TEXT")).toBe("inner body");
    expect(section([2, 1])).toBe("inner body");
    expect(section([], "HEADER.FIELDS", ["subject"])).toBe("Subject: outer\r\n\r\n");
    expect(section([3])).toBeUndefined();
  });

  it("encodes BODYSTRUCTURE with sizes and line counts", () => {
    const text = Buffer.concat(encodeValue(bodyStructureValue(bodyStructure, true))).toString();
    expect(text).toMatch(/^\(\("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 10 1 /);
    expect(text).toContain('"MESSAGE" "RFC822"');
    expect(text).toContain('"MIXED" ("BOUNDARY" "b")');
  });
});
