import { describe, expect, it } from "vitest";
import { decideSpam, type RspamdAnswer } from "@correo/rspamd";
import { removeHeaderFields, readHeaderSection } from "../src/message-headers.js";
import { spamVerdict } from "../src/smtp/policy/spam.js";
import { formatReply } from "../src/smtp/replies.js";

const answer = (action: RspamdAnswer["action"], score: number): RspamdAnswer => ({
  action,
  score,
  requiredScore: 15,
  symbols: [],
  addHeaders: [],
  removeHeaders: [],
  skipped: false,
});
const reply = (v: ReturnType<typeof spamVerdict>) => (v.verdict.verdict === "accept" ? (v.junk ? "accept into Junk" : "accept") : formatReply(v.verdict.reply));

describe("spam verdict at the end of DATA (issue 14)", () => {
  it.each([
    ["reject", 20, false, "550 5.7.1 Message refused as spam"],
    ["soft reject", 0, false, "451 4.7.1 Message deferred by the spam filter, try again later"],
    ["greylist", 5, false, "451 4.7.1 Message deferred by the spam filter, try again later"],
    ["add header", 7, false, "accept into Junk"],
    ["rewrite subject", 9, false, "accept into Junk"],
    ["no action", 0, false, "accept"],
    ["no action", 0, true, "accept"],
  ] as const)("rspamd's %s (score %d, fail closed %s) → %s", (action, score, failClosed, expected) => {
    expect(reply(spamVerdict(decideSpam(answer(action, score), { failClosed })))).toBe(expected);
  });

  it.each([
    ["timeout", false, "accept"],
    ["error", false, "accept"],
    ["timeout", true, "451 4.7.1 Spam check unavailable, try again later"],
    ["error", true, "451 4.7.1 Spam check unavailable, try again later"],
  ] as const)("no usable answer (%s), fail closed %s → %s", (failure, failClosed, expected) => {
    expect(reply(spamVerdict(decideSpam(failure, { failClosed })))).toBe(expected);
  });
});

describe("removeHeaderFields", () => {
  const raw = Buffer.from(
    "Received: from a\r\n by b\r\nX-Spam-Flag: NO\r\nSubject: hi\r\nx-spam-status: No,\r\n\tscore=-100\r\nTo: c@d\r\n\r\nX-Spam-Flag: body line\r\n",
  );

  it("drops every field named, any case, with its continuation lines, and leaves the rest and the body byte for byte", () => {
    const out = removeHeaderFields(raw, ["X-Spam-Flag", "X-Spam-Status"]).toString();
    expect(out).toBe("Received: from a\r\n by b\r\nSubject: hi\r\nTo: c@d\r\n\r\nX-Spam-Flag: body line\r\n");
    expect(readHeaderSection(Buffer.from(out)).fields.map((f) => f.name)).toEqual(["Received", "Subject", "To"]);
  });

  it("works on a message that is only a header section", () => {
    expect(removeHeaderFields(Buffer.from("Subject: a\r\nX-Spam-Score: 1\r\n"), ["x-spam-score"]).toString()).toBe("Subject: a\r\n");
  });

  it("returns the message itself when nothing is to be removed", () => {
    expect(removeHeaderFields(raw, [])).toBe(raw);
  });
});
