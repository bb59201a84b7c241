/**
 * The mailbox store on PostgreSQL, one object per process, used by the IMAP adapter
 * and the HTTP mailbox API alike. Methods are scoped by account id (mailboxes) or
 * mailbox id (messages, which the caller found through an account). Changes are
 * announced as mailbox.changed events through `changes` (the transactional outbox).
 */
import type { Pool } from "@correo/db";
import type { MessageSummary } from "@correo/imap";
import { changesSince } from "./changes.js";
import { expungeMessages, appendMessage, appendMessages, copyMessages, type AppendItem } from "./transfer.js";
import { storeFlags } from "./flags.js";
import {
  claimRecent,
  createMailbox,
  deleteMailbox,
  findMailbox,
  listMailboxes,
  listSubscriptions,
  mailboxById,
  mailboxStatus,
  renameMailbox,
  setSubscribed,
} from "./mailboxes.js";
import { fetchFlags, fetchMessages, fetchSummaries, listMessages, readRaw, snapshot } from "./messages.js";
import { accountQuota } from "./quota.js";
import { searchMessages, type SearchKey } from "./search.js";
import type {
  AppendResult,
  ChangeSink,
  Changes,
  ExpungeResult,
  FlagUpdate,
  Mailbox,
  MailboxSnapshot,
  MailboxStatus,
  MailstoreRefusal,
  MessagePage,
  MessageRecord,
  Quota,
  StoreMode,
  StoreResult,
  TransferResult,
} from "./types.js";

export interface MailStoreOptions {
  pool: Pool;
  changes?: ChangeSink;
}

export class MailStore {
  readonly pool: Pool;
  private readonly changes: ChangeSink | undefined;

  constructor(opts: MailStoreOptions) {
    this.pool = opts.pool;
    this.changes = opts.changes;
  }

  // Mailboxes (by account)
  listMailboxes(accountId: number): Promise<Mailbox[]> {
    return listMailboxes(this.pool, accountId);
  }
  findMailbox(accountId: number, name: string): Promise<Mailbox | undefined> {
    return findMailbox(this.pool, accountId, name);
  }
  mailboxById(mailboxId: number): Promise<Mailbox | undefined> {
    return mailboxById(this.pool, mailboxId);
  }
  createMailbox(accountId: number, name: string, specialUse?: string | null): Promise<Mailbox | MailstoreRefusal> {
    return createMailbox(this.pool, accountId, name, specialUse ?? null);
  }
  deleteMailbox(accountId: number, name: string): Promise<true | MailstoreRefusal> {
    return deleteMailbox(this.pool, accountId, name);
  }
  renameMailbox(accountId: number, from: string, to: string): Promise<true | MailstoreRefusal> {
    return renameMailbox(this.pool, accountId, from, to);
  }
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<true | MailstoreRefusal> {
    return setSubscribed(this.pool, accountId, name, subscribed);
  }
  /** Subscribed names, including those of mailboxes deleted since (RFC 5258 \NonExistent). */
  listSubscriptions(accountId: number): Promise<string[]> {
    return listSubscriptions(this.pool, accountId);
  }
  /** RFC 3501 §2.3.2: see mailboxes.ts claimRecent. */
  claimRecent(mailboxId: number, upToUid: number, claim: boolean): Promise<number> {
    return claimRecent(this.pool, mailboxId, upToUid, claim);
  }
  status(mailbox: Mailbox): Promise<MailboxStatus> {
    return mailboxStatus(this.pool, mailbox);
  }
  quota(accountId: number): Promise<Quota> {
    return accountQuota(this.pool, accountId);
  }

  // Messages (by mailbox)
  snapshot(mailbox: Mailbox): Promise<MailboxSnapshot> {
    return snapshot(this.pool, mailbox);
  }
  fetch(mailboxId: number, uids: readonly number[], opts: { raw?: boolean } = {}): Promise<MessageRecord[]> {
    return fetchMessages(this.pool, mailboxId, uids, opts);
  }
  fetchSummaries(mailboxId: number, uids: readonly number[]): Promise<MessageSummary[]> {
    return fetchSummaries(this.pool, mailboxId, uids);
  }
  fetchFlags(mailboxId: number, uids: readonly number[]): Promise<FlagUpdate[]> {
    return fetchFlags(this.pool, mailboxId, uids);
  }
  listMessages(mailboxId: number, opts: { limit: number; beforeUid?: number }): Promise<MessagePage> {
    return listMessages(this.pool, mailboxId, opts);
  }
  readRaw(mailboxId: number, uid: number): Promise<Buffer | undefined> {
    return readRaw(this.pool, mailboxId, uid);
  }
  search(mailboxId: number, criteria: SearchKey): Promise<number[]> {
    return searchMessages(this.pool, mailboxId, criteria);
  }
  changesSince(mailboxId: number, modseq: number): Promise<Changes> {
    return changesSince(this.pool, mailboxId, modseq);
  }
  storeFlags(mailboxId: number, uids: readonly number[], mode: StoreMode, flags: readonly string[], unchangedSince?: number): Promise<StoreResult> {
    return storeFlags(this.pool, this.changes, mailboxId, uids, mode, flags, unchangedSince);
  }
  append(accountId: number, mailboxName: string, raw: Buffer, opts: { flags?: readonly string[]; internalDate?: Date } = {}): Promise<AppendResult | MailstoreRefusal> {
    return appendMessage(this.pool, this.changes, accountId, mailboxName, raw, opts);
  }
  /** RFC 3502 MULTIAPPEND: every message or none, one transaction. */
  appendMany(accountId: number, mailboxName: string, items: readonly AppendItem[]): Promise<{ mailboxId: number; uidValidity: number; uids: number[] } | MailstoreRefusal> {
    return appendMessages(this.pool, this.changes, accountId, mailboxName, items);
  }
  copy(accountId: number, sourceMailboxId: number, uids: readonly number[], destination: string): Promise<TransferResult | MailstoreRefusal> {
    return copyMessages(this.pool, this.changes, accountId, sourceMailboxId, uids, destination);
  }
  move(accountId: number, sourceMailboxId: number, uids: readonly number[], destination: string): Promise<(TransferResult & { expunged: number[] }) | MailstoreRefusal> {
    return copyMessages(this.pool, this.changes, accountId, sourceMailboxId, uids, destination, { move: true });
  }
  /** Removes \Deleted messages (IMAP EXPUNGE; with `uids`, UID EXPUNGE). */
  expunge(mailboxId: number, uids?: readonly number[]): Promise<ExpungeResult> {
    return expungeMessages(this.pool, this.changes, mailboxId, uids ? { uids } : {});
  }
  /** Removes these messages whatever their flags (HTTP DELETE, POP3 UPDATE). */
  remove(mailboxId: number, uids: readonly number[]): Promise<ExpungeResult> {
    return expungeMessages(this.pool, this.changes, mailboxId, { uids, ignoreDeletedFlag: true });
  }
}
