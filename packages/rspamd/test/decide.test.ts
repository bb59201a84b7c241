import { describe, expect, it } from "vitest";
import { decideSpam, SPAM_HEADERS, subjectFieldValue, type RspamdAnswer } from "../src/index.js";

const answer = (over: Partial<RspamdAnswer>): RspamdAnswer => ({
  action: "no action",
  score: 1.5,
  requiredScore: 15,
  symbols: [],
  addHeaders: [],
  removeHeaders: [],
  skipped: false,
  ...over,
});
const open = { failClosed: false };
const closed = { failClosed: true };

describe("decideSpam: rspamd's action as Correo's decision", () => {
  it.each([
    ["reject", "reject"],
    ["soft reject", "defer"],
    ["greylist", "defer"],
    ["add header", "junk"],
    ["rewrite subject", "junk"],
    ["no action", "accept"],
  ] as const)("%s → %s", (action, outcome) => {
    expect(decideSpam(answer({ action, score: 9 }), open).outcome).toBe(outcome);
    // Fail-closed changes nothing when rspamd did answer.
    expect(decideSpam(answer({ action, score: 9 }), closed).outcome).toBe(outcome);
  });

  it.each([
    ["timeout", open, "accept"],
    ["error", open, "accept"],
    ["timeout", closed, "defer"],
    ["error", closed, "defer"],
  ] as const)("no usable answer (%s) with %o → %s, unchecked", (failure, policy, outcome) => {
    expect(decideSpam(failure, policy)).toMatchObject({ outcome, action: "unchecked" });
  });

  it("marks add header as spam with X-Spam-Flag, X-Spam-Score, X-Spam-Status and X-Spam-Action", () => {
    const d = decideSpam(answer({ action: "add header", score: 7.25, requiredScore: 15 }), open);
    expect(d).toEqual({
      outcome: "junk",
      action: "add header",
      score: 7.25,
      addHeaders: [
        { name: "X-Spam-Flag", value: "YES" },
        { name: "X-Spam-Score", value: "7.25" },
        { name: "X-Spam-Status", value: "Yes, score=7.25 required=15.00" },
        { name: "X-Spam-Action", value: "add header" },
      ],
      removeHeaders: [...SPAM_HEADERS],
    });
  });

  it("replaces the Subject with rspamd's for rewrite subject", () => {
    const d = decideSpam(answer({ action: "rewrite subject", score: 9, subject: "***SPAM*** hello" }), open);
    if (d.outcome !== "junk") throw new Error(`expected junk, got ${d.outcome}`);
    expect(d.removeHeaders).toContain("Subject");
    expect(d.addHeaders).toContainEqual({ name: "Subject", value: "***SPAM*** hello" });
  });

  it("records the score of a clean message without flagging it", () => {
    const d = decideSpam(answer({ action: "no action", score: -0.1 }), open);
    expect(d).toMatchObject({ outcome: "accept", action: "no action" });
    if (d.outcome !== "accept") throw new Error("not accepted");
    expect(d.addHeaders.map((h) => h.name)).not.toContain("X-Spam-Flag");
    expect(d.addHeaders).toContainEqual({ name: "X-Spam-Status", value: "No, score=-0.10 required=15.00" });
  });

  it("removes X-Spam-* headers that came with the message, even when rspamd did not answer", () => {
    const d = decideSpam("timeout", open);
    expect(d).toEqual({ outcome: "accept", action: "unchecked", addHeaders: [], removeHeaders: [...SPAM_HEADERS] });
  });

  it("applies rspamd's milter header edits, but never to the fields Correo writes, nor broken ones", () => {
    const d = decideSpam(
      answer({
        action: "add header",
        score: 7,
        addHeaders: [
          { name: "X-Rspamd-Server", value: "scanner\r\n\tone" },
          { name: "X-Spam-Flag", value: "NO" },
          { name: "Bad Name", value: "x" },
        ],
        removeHeaders: ["X-Old", "Subject"],
      }),
      open,
    );
    if (d.outcome !== "junk") throw new Error("not junk");
    expect(d.addHeaders).toContainEqual({ name: "X-Rspamd-Server", value: "scanner one" });
    expect(d.addHeaders.filter((h) => h.name === "X-Spam-Flag")).toEqual([{ name: "X-Spam-Flag", value: "YES" }]);
    expect(d.addHeaders.map((h) => h.name)).not.toContain("Bad Name");
    expect(d.removeHeaders).toContain("X-Old");
    expect(d.removeHeaders).not.toContain("Subject");
  });
});

describe("subjectFieldValue (RFC 2047)", () => {
  it("keeps printable ASCII (rspamd already encodes a non-ASCII subject) as it is", () => {
    expect(subjectFieldValue("=?UTF-8?Q?=2A=2A=2ASPAM=2A=2A=2A_Gr=C3=BC=C3=9Fe?=")).toBe("=?UTF-8?Q?=2A=2A=2ASPAM=2A=2A=2A_Gr=C3=BC=C3=9Fe?=");
  });

  it("B-encodes UTF-8 in words of at most 75 characters, folded, never splitting a character", () => {
    const subject = "***SPAM*** " + "Grüße aus Köln, ".repeat(6);
    const value = subjectFieldValue(subject);
    const words = value.split("\r\n ");
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
    const decoded = words.map((w) => Buffer.from(/^=\?UTF-8\?B\?(.*)\?=$/.exec(w)![1]!, "base64").toString("utf8")).join("");
    expect(decoded).toBe(subject.trim());
  });

  it("turns CR and LF into spaces so that the value stays one field", () => {
    expect(subjectFieldValue("a\r\nBcc: x@example.com")).toBe("a Bcc: x@example.com");
  });
});
