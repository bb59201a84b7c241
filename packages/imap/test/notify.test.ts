import { describe, expect, it } from "vitest";
import { parseCommand, type Token } from "../src/index.js";
import { eventsFor, filterMatches, NotifyError, parseNotify, statusItemsFor } from "../src/syntax/notify.js";

function args(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

const parse = (line: string) => parseNotify(args(`a NOTIFY ${line}`));
const names = (ts: readonly Token[]) => ts.map((t) => (t.type === "atom" || t.type === "string" ? t.value.toString() : "?"));

describe("NOTIFY syntax (RFC 5465 §8)", () => {
  it("reads NONE", () => {
    expect(parse("NONE")).toEqual({ none: true });
  });

  it("reads SET STATUS with selected and other filters, events and NONE", () => {
    const r = parse('SET STATUS (SELECTED (MessageNew MessageExpunge FlagChange)) (mailboxes (Archive "Sent Items") (MessageNew messageexpunge)) (subtree Lists (MailboxName)) (personal NONE)');
    if (r.none) throw new Error("expected SET");
    expect(r.status).toBe(true);
    expect(r.groups.map((g) => g.filter.kind)).toEqual(["selected", "mailboxes", "subtree", "personal"]);
    expect([...r.groups[0]!.events]).toEqual(["MessageNew", "MessageExpunge", "FlagChange"]);
    const mailboxes = r.groups[1]!.filter;
    expect(mailboxes.kind === "mailboxes" && names(mailboxes.names)).toEqual(["Archive", "Sent Items"]);
    const subtree = r.groups[2]!.filter;
    expect(subtree.kind === "subtree" && names(subtree.names)).toEqual(["Lists"]);
    expect([...r.groups[3]!.events]).toEqual([]);
  });

  it("reads SELECTED-DELAYED, INBOXES and SUBSCRIBED", () => {
    const r = parse("SET (selected-delayed (MessageNew MessageExpunge)) (inboxes (MessageNew)) (subscribed (SubscriptionChange))");
    if (r.none) throw new Error("expected SET");
    expect(r.status).toBe(false);
    expect(r.groups.map((g) => g.filter)).toEqual([{ kind: "selected", delayed: true }, { kind: "inboxes" }, { kind: "subscribed" }]);
  });

  it.each([
    ["FROB", "BAD", /NOTIFY needs SET or NONE/],
    ["NONE (inboxes (MessageNew))", "BAD", /NONE takes no arguments/],
    ["SET", "BAD", /at least one event group/],
    ["SET STATUS", "BAD", /at least one event group/],
    ["SET inboxes", "BAD", /parenthesized/],
    ["SET (everything (MessageNew))", "BAD", /unknown mailbox filter everything/],
    ["SET (mailboxes (MessageNew))", "BAD", /an event group is a mailbox filter and then/],
    ["SET (mailboxes () (MessageNew))", "BAD", /needs one mailbox/],
    ["SET (inboxes ())", "BAD", /parenthesized list, or NONE/],
    ["SET (inboxes (MessageNew Bogus))", "BAD", /unknown event Bogus/],
    ["SET (selected (MailboxName))", "BAD", /SELECTED takes message events only/],
    ["SET (selected (MessageNew)) (selected-delayed (MessageNew))", "BAD", /given twice/],
    ["SET (inboxes (MessageNew (UID)))", "BAD", /fetch attributes are allowed with SELECTED only/],
    ["SET (selected (MessageNew (UID FLAGS) MessageExpunge))", "NO", /not supported/],
    ["SET (personal (AnnotationChange))", "NO", /not reported here/],
  ])("refuses %j with %s", (line, status, text) => {
    let error: unknown;
    try {
      parse(line);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotifyError);
    expect((error as NotifyError).status).toBe(status);
    expect((error as NotifyError).message).toMatch(text);
    if (status === "NO") expect((error as NotifyError).code).toBe("BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)");
  });
});

describe("mailbox filters (RFC 5465 §6)", () => {
  const box = (name: string, subscribed = false, specialUse: string | null = null) => ({ name, subscribed, specialUse });
  it.each([
    [{ kind: "inboxes" } as const, box("INBOX"), true],
    [{ kind: "inboxes" } as const, box("Junk", false, "\\Junk"), true],
    [{ kind: "inboxes" } as const, box("Archive"), false],
    [{ kind: "personal" } as const, box("Archive"), true],
    [{ kind: "subscribed" } as const, box("Archive", true), true],
    [{ kind: "subscribed" } as const, box("Archive"), false],
    [{ kind: "subtree", names: ["Lists"] } as const, box("Lists"), true],
    [{ kind: "subtree", names: ["Lists"] } as const, box("Lists/ietf/imap"), true],
    [{ kind: "subtree", names: ["Lists"] } as const, box("Listserv"), false],
    [{ kind: "mailboxes", names: ["Lists"] } as const, box("Lists"), true],
    [{ kind: "mailboxes", names: ["Lists"] } as const, box("Lists/ietf"), false],
    [{ kind: "selected", delayed: false } as const, box("INBOX"), false],
  ])("%j takes %j: %s", (filter, b, expected) => {
    expect(filterMatches(filter, b)).toBe(expected);
  });

  it("applies the first group that takes a mailbox", () => {
    const groups = [
      { filter: { kind: "mailboxes" as const, names: ["INBOX"] }, events: new Set<never>() },
      { filter: { kind: "personal" as const }, events: new Set(["MessageNew" as const]) },
    ];
    expect([...eventsFor(groups, box("INBOX"))!]).toEqual([]);
    expect([...eventsFor(groups, box("Archive"))!]).toEqual(["MessageNew"]);
  });

  it("tells message events with the STATUS items Dovecot sends", () => {
    expect(statusItemsFor(new Set(["MessageExpunge"]))).toEqual(["MESSAGES"]);
    expect(statusItemsFor(new Set(["MessageNew"]))).toEqual(["MESSAGES", "UIDNEXT", "UIDVALIDITY"]);
    expect(statusItemsFor(new Set(["FlagChange"]))).toEqual(["UIDVALIDITY", "HIGHESTMODSEQ"]);
    expect(statusItemsFor(new Set(["MailboxName"]))).toEqual([]);
  });
});
