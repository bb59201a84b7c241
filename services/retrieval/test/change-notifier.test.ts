import { describe, expect, it } from "vitest";
import { MailboxWatchers } from "../src/imap/change-notifier.js";

describe("MailboxWatchers", () => {
  it("announces to the other copies only the name changes made here, and wakes the account's sessions for every kind", () => {
    const announced: number[] = [];
    const w = new MailboxWatchers({ announce: (id) => announced.push(id) });
    const woken: string[] = [];
    w.watchAccount(7, () => woken.push("account 7"));
    w.watch(70, () => woken.push("mailbox 70"));
    w.accountChanged(7); // a CREATE in a session of this copy
    w.accountWoken(7); // a mailboxes.changed event from another copy
    w.changed(70, 7); // a mailbox.changed event
    w.accountWoken(8);
    expect(announced).toEqual([7]);
    expect(woken).toEqual(["account 7", "account 7", "mailbox 70", "account 7"]);
  });

  it("stops waking a session that stopped watching", () => {
    const w = new MailboxWatchers();
    let n = 0;
    const stop = w.watchAccount(1, () => n++);
    w.accountWoken(1);
    stop();
    w.accountWoken(1);
    w.accountChanged(1);
    expect(n).toBe(1);
  });
});
