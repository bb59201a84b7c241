/**
 * Wakes the IMAP sessions of this process that have a mailbox selected when a
 * mailbox.changed notification arrives (from the mailbox service or any retrieval
 * copy). The notification only says "look again"; sessions read what changed from
 * PostgreSQL, so a duplicate or coalesced notification does no harm.
 */
import type { ChangeNotifier } from "@correo/imap";

export class MailboxWatchers implements ChangeNotifier {
  private readonly watchers = new Map<number, Set<() => void>>();

  watch(mailboxId: number, onChange: () => void): () => void {
    let set = this.watchers.get(mailboxId);
    if (!set) this.watchers.set(mailboxId, (set = new Set()));
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.watchers.get(mailboxId) === set) this.watchers.delete(mailboxId);
    };
  }

  /** Called for each mailbox.changed event. */
  changed(mailboxId: number): void {
    for (const fn of this.watchers.get(mailboxId) ?? []) fn();
  }

  get watching(): number {
    return this.watchers.size;
  }
}
