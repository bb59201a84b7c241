import { describe, expect, it } from "vitest";
import { parseStatus } from "../src/syntax/status.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("STATUS arguments (RFC 3501 §6.3.10 and the items of its extensions)", () => {
  it.each([
    // RFC 3501 §6.3.10's example.
    ["a STATUS blurdybloop (UIDNEXT MESSAGES)", false, { mailbox: "blurdybloop", items: ["UIDNEXT", "MESSAGES"] }],
    ['a STATUS "Sent Items" (recent unseen uidvalidity)', false, { mailbox: "Sent Items", items: ["RECENT", "UNSEEN", "UIDVALIDITY"] }],
    ["a STATUS &ZeVnLIqe- (HIGHESTMODSEQ SIZE DELETED DELETED-STORAGE APPENDLIMIT MAILBOXID)", true, {
      mailbox: "&ZeVnLIqe-",
      items: ["HIGHESTMODSEQ", "SIZE", "DELETED", "DELETED-STORAGE", "APPENDLIMIT", "MAILBOXID"],
    }],
  ])("%s (rev2 %s) reads as the request", (line, rev2, request) => {
    expect(parseStatus(argsOf(line), { rev2 })).toEqual(request);
  });

  it.each([
    ["a STATUS INBOX", false, "STATUS takes a mailbox and a list of items"],
    ["a STATUS INBOX (MESSAGES) x", false, "STATUS takes a mailbox and a list of items"],
    ["a STATUS (INBOX) (MESSAGES)", false, "the mailbox name is missing or not a string"],
    ["a STATUS INBOX MESSAGES", false, "expected a list of status items"],
    ["a STATUS INBOX ()", false, "expected a list of status items"],
    ["a STATUS INBOX (MESSAGES FROB)", false, "unknown status item FROB"],
    ['a STATUS INBOX ("MESSAGES")', false, "unknown status item (not an atom)"],
    ["a STATUS INBOX (RECENT)", true, "IMAP4rev2 has no RECENT status item (RFC 9051 removed \\Recent)"],
  ])("%s (rev2 %s) is BAD: %s", (line, rev2, text) => {
    expect(refusalOf(() => parseStatus(argsOf(line), { rev2 }))).toEqual({ status: "BAD", text });
  });
});
