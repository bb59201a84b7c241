import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { describeMessage, messageBodyStart } from "../src/mime-structure.js";

describe("messageBodyStart", () => {
  it.each([
    ["Subject: a\r\n\r\nbody\r\n", 14],
    ["Subject: a\n\nbody\n", 12],
    ["Subject: a\r\nX: b\r\n", 18],
    ["\r\nbody", 2],
    ["", 0],
  ])("%j: the header block ends at %i", (text, at) => {
    expect(messageBodyStart(text)).toBe(at);
  });

  it("is where describeMessage puts the root's body, for any message (property)", () => {
    const line = fc.stringMatching(/^[ -~]{0,30}$/);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.constantFrom("\r\n", "\n"), (lines, eol) => {
        const s = lines.join(eol);
        expect(messageBodyStart(s)).toBe(describeMessage(Buffer.from(s, "latin1")).bodyStructure.bodyStart);
      }),
    );
  });
});
