/**
 * Wakes the IMAP sessions of this process that have a mailbox selected when a
 * mailbox.changed notification arrives (from the mailbox service or any retrieval
 * copy). The notification only says "look again"; sessions read what changed from
 * PostgreSQL, so a duplicate or coalesced notification does no harm.
 */
import type { ChangeNotifier } from "@correo/imap";

export class MailboxWatchers implements ChangeNotifier {
  private readonly watchers = new Map<number, Set<() => void>>();

  /**
   * `announce` tells the other retrieval copies when a session of this one changed an
   * account's mailbox names or subscriptions (a mailboxes.changed event): they publish no
   * mailbox.changed for those.
   */
  constructor(private readonly opts: { announce?: (accountId: number) => void } = {}) {}

  watch(mailboxId: number, onChange: () => void): () => void {
    let set = this.watchers.get(mailboxId);
    if (!set) this.watchers.set(mailboxId, (set = new Set()));
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.watchers.get(mailboxId) === set) this.watchers.delete(mailboxId);
    };
  }

  /** RFC 5465 NOTIFY: the sessions that watch every mailbox of an account. */
  private readonly accounts = new Map<number, Set<() => void>>();

  watchAccount(accountId: number, onChange: () => void): () => void {
    let set = this.accounts.get(accountId);
    if (!set) this.accounts.set(accountId, (set = new Set()));
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.accounts.get(accountId) === set) this.accounts.delete(accountId);
    };
  }

  /** A session of this process changed the account's mailbox names or subscriptions: here and, announced, in the other copies. */
  accountChanged(accountId: number): void {
    this.accountWoken(accountId);
    this.opts.announce?.(accountId);
  }

  /** Wakes this process's NOTIFY sessions of the account (a mailboxes.changed event, or any change of its mailboxes). */
  accountWoken(accountId: number): void {
    for (const fn of this.accounts.get(accountId) ?? []) fn();
  }

  /** Called for each mailbox.changed event (with its account, for NOTIFY). */
  changed(mailboxId: number, accountId?: number): void {
    for (const fn of this.watchers.get(mailboxId) ?? []) fn();
    if (accountId !== undefined) this.accountWoken(accountId);
  }

  get watching(): number {
    return this.watchers.size;
  }
}
