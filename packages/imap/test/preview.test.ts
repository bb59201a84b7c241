import { describe, expect, it } from "vitest";
import { htmlText, previewOf, previewPart, PREVIEW_CHARACTERS } from "../src/preview.js";
import type { BodyPart } from "../src/storage.js";

const leaf = (type: string, subtype: string, disposition?: string): BodyPart => ({
  type,
  subtype,
  params: [],
  id: null,
  description: null,
  encoding: "7bit",
  size: 0,
  md5: null,
  disposition: disposition ? { type: disposition, params: [] } : null,
  language: null,
  location: null,
  headerStart: 0,
  bodyStart: 0,
  end: 0,
});
const multi = (subtype: string, ...parts: BodyPart[]): BodyPart => ({ ...leaf("multipart", subtype), parts });

describe("PREVIEW (RFC 8970)", () => {
  it("takes the first inline text/plain, else text/html, never an attachment", () => {
    const plain = leaf("text", "plain");
    const html = leaf("text", "html");
    expect(previewPart(multi("alternative", html, plain))).toBe(plain);
    expect(previewPart(multi("mixed", multi("alternative", html), leaf("text", "plain", "attachment")))).toBe(html);
    expect(previewPart(multi("mixed", leaf("image", "png"), leaf("text", "plain", "attachment")))).toBeUndefined();
  });

  it.each([
    ["Hello\r\n\r\n  there,\tfriend\r\n", "plain", "Hello there, friend"],
    ["<html><head><title>x</title></head><body><p>Caf&eacute; &amp; <b>tea</b>&#33;</p><script>evil()</script></body></html>", "html", "Caf&eacute; & tea !"],
    ["", "plain", ""],
  ])("previews %j (%s) as %j (§3: one line, no markup)", (text, subtype, expected) => {
    expect(previewOf(text, subtype)).toBe(expected);
  });

  it("stops at 256 characters, counting code points, never splitting one", () => {
    const long = "é😀".repeat(200);
    const p = previewOf(long);
    expect([...p]).toHaveLength(PREVIEW_CHARACTERS);
    expect(p.endsWith("😀")).toBe(true);
    expect(previewOf("short")).toBe("short");
  });

  it("decodes numeric entities and drops comments in HTML", () => {
    expect(htmlText("a<!-- hidden -->b&#x263A;&#9731;").replace(/\s+/g, "")).toBe("ab☺☃");
  });
});
