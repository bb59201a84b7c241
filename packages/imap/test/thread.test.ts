import { describe, expect, it } from "vitest";
import { baseSubjectInfo } from "../src/sort.js";
import { messageIds, referencesOf, referencesThreadList, threadReferences, type ThreadInput } from "../src/thread.js";
import { referencesHeader } from "../src/commands/sort-input.js";

/** A message in mailbox position `seq`, sent `minute` minutes past an hour (no Date: header: INTERNALDATE). */
function msg(seq: number, fields: { id?: string; refs?: string; irt?: string; subject?: string; minute?: number; date?: string }): ThreadInput {
  return {
    uid: seq * 10,
    seq,
    internalDate: new Date(Date.UTC(2008, 1, 22, 15, fields.minute ?? 0)),
    size: 100,
    date: fields.date ?? null,
    subject: fields.subject ?? null,
    from: null,
    to: null,
    cc: null,
    messageId: fields.id ?? null,
    inReplyTo: fields.irt ?? null,
    references: fields.refs ?? null,
  };
}

const thread = (messages: ThreadInput[]) => referencesThreadList(threadReferences(messages), (m) => m.seq);

describe("references of a message (RFC 5256 §2.2 step 1)", () => {
  it("reads References, else the first In-Reply-To Message ID, else none", () => {
    expect(referencesOf({ references: "<a@b> (comment <x@y>) <c@b>", inReplyTo: "<z@b>" })).toEqual(["a@b", "c@b"]);
    expect(referencesOf({ references: "garbage", inReplyTo: "<z@b> <y@b>" })).toEqual(["z@b"]);
    expect(referencesOf({ references: null, inReplyTo: "no id here" })).toEqual([]);
    expect(messageIds("<A@b>")).toEqual(["A@b"]);
  });

  it("takes the References field from a raw header, unfolded, and not from the body", () => {
    expect(referencesHeader(Buffer.from("Subject: x\r\nReferences: <a@b>\r\n <c@b>\r\n\r\nReferences: <no@b>\r\n"))).toBe("<a@b> <c@b>");
    expect(referencesHeader(Buffer.from("Subject: x\r\n\r\nReferences: <no@b>\r\n"))).toBeNull();
  });
});

describe("reply or forward (RFC 5256 §2.1, as §2.2 step 5 uses it)", () => {
  it.each([
    ["foo", "foo", false],
    ["Re: foo", "foo", true],
    ["foo (fwd)", "foo", true],
    ["[fwd: foo]", "foo", true],
    ["[list] foo", "foo", false],
    ["  foo  ", "foo", false],
  ])("%j -> %j, reply %s", (subject, base, isReply) => {
    expect(baseSubjectInfo(subject)).toEqual({ base, isReply });
  });
});

describe("THREAD=REFERENCES (RFC 5256 §2.2)", () => {
  it("links through References; a References loop is not made, an older parent link gives way (imaptest thread)", () => {
    const ms = [msg(1, { id: "<a@b>", minute: 120 }), msg(2, { id: "<b@b>", refs: "<a@b> <c@b>" }), msg(3, { id: "<c@b>", refs: "<b@b>", minute: 60 })];
    expect(thread(ms)).toBe("(3 2)(1)");
    expect(thread([msg(1, { id: "<b@b>", refs: "<a@b> <c@b>" }), msg(2, { id: "<c@b>", refs: "<b@b>", minute: 60 })])).toBe("(2 1)");
  });

  it("gives duplicate Message IDs unique ones (imaptest thread2, thread7)", () => {
    expect(thread([msg(1, { id: "<a@b>" }), msg(2, { id: "<a@b>" })])).toBe("(1)(2)");
    const ms = [msg(1, { id: "<a@b>" }), msg(2, { id: "<b@b>", refs: "<a@b>" }), msg(3, { id: "<c@b>", refs: "<b@b>" }), msg(4, { id: "<b@b>", refs: "<a@b>" })];
    expect(thread(ms)).toBe("(1 (2 3)(4))");
    // Without the first <b@b>, the second takes its dummy's place.
    expect(thread([msg(1, { id: "<a@b>" }), msg(2, { id: "<c@b>", refs: "<b@b>" }), msg(3, { id: "<b@b>", refs: "<a@b>" })])).toBe("(1 3 2)");
  });

  it("uses In-Reply-To without References; siblings by sent date, then mailbox order (imaptest thread5)", () => {
    const ms = [msg(1, { id: "<1@b>", minute: 120 }), msg(2, { id: "<2@b>", irt: "<1@b>" }), msg(3, { id: "<3@b>", irt: "<1@b>" }), msg(4, { id: "<4@b>", irt: "<2@b>" })];
    expect(thread(ms)).toBe("(1 (2 4)(3))");
    expect(thread([msg(2, { id: "<3@b>", irt: "<1@b>", minute: 5 }), msg(1, { id: "<4@b>", irt: "<2@b>", minute: 1 })])).toBe("(1)(2)");
  });

  it("prunes dummies: a root dummy with several children stays, one with a single child gives way (imaptest thread5, thread6)", () => {
    expect(thread([msg(1, { id: "<3@b>", irt: "<1@b>" }), msg(2, { id: "<4@b>", irt: "<2@b>" }), msg(3, { id: "<5@b>", irt: "<2@b>" })])).toBe("(1)((2)(3))");
    expect(thread([msg(1, { refs: "<a@b>" }), msg(2, { refs: "<a@b>", minute: 1 })])).toBe("((1)(2))");
    // A dummy inside a thread is always replaced by its children.
    expect(thread([msg(1, { id: "<a@b>" }), msg(2, { refs: "<a@b> <gone@b>" }), msg(3, { refs: "<a@b> <gone@b>" })])).toBe("(1 (2)(3))");
  });

  it("merges threads by subject: a reply under the original (imaptest thread3, thread4)", () => {
    expect(thread([msg(1, { id: "<a@b>", subject: "foo" }), msg(2, { id: "<a@b>", subject: "Re: foo", minute: 1 })])).toBe("(1 2)");
    expect(thread([msg(1, { id: "<a@b>", subject: "foo" }), msg(2, { id: "<b@b>", refs: "<c@b>", subject: "Re: foo", minute: 1 })])).toBe("(1 2)");
    // The original comes later in the root set: the reply still goes under it.
    expect(thread([msg(1, { id: "<x@b>", subject: "Re: foo" }), msg(2, { id: "<y@b>", subject: "foo", minute: 1 })])).toBe("(2 1)");
  });

  it("merges two non-replies with one subject under a new dummy; empty subjects are never merged", () => {
    expect(thread([msg(1, { id: "<x@b>", subject: "foo" }), msg(2, { id: "<y@b>", subject: "[list] FOO", minute: 1 }), msg(3, { id: "<z@b>", subject: "bar", minute: 2 })])).toBe("((1)(2))(3)");
    expect(thread([msg(1, { id: "<x@b>", subject: "" }), msg(2, { id: "<y@b>", subject: "Re:" })])).toBe("(1)(2)");
  });

  it("merges a message into a dummy of the same subject, and two dummies into one", () => {
    const ms = [
      msg(1, { refs: "<d@b>", subject: "foo" }),
      msg(2, { refs: "<d@b>", subject: "Re: foo", minute: 1 }),
      msg(3, { id: "<m@b>", subject: "Re: foo", minute: 2 }),
      msg(4, { refs: "<e@b>", subject: "foo", minute: 3 }),
      msg(5, { refs: "<e@b>", subject: "foo", minute: 4 }),
    ];
    expect(thread(ms)).toBe("((1)(2)(3)(4)(5))");
  });

  it("orders threads by sent date, Date: header first (RFC 5256 §2.2 step 4)", () => {
    const ms = [msg(1, { id: "<x@b>", subject: "a", date: "Fri, 22 Feb 2008 20:00:00 +0000" }), msg(2, { id: "<y@b>", subject: "b", minute: 30 })];
    expect(thread(ms)).toBe("(2)(1)");
    expect(thread([])).toBe("");
  });
});
