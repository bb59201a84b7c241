import type { Queryable } from "@correo/db";
import type { MailboxChanged } from "@correo/contracts";
import type { OutboxDraft, PendingEvent } from "@correo/spool";
import type { StatusInfo } from "@correo/imap";
import type { BodyPart, Envelope } from "./mime-structure.js";

export interface Mailbox {
  id: number;
  accountId: number;
  name: string;
  /** RFC 6154 attribute (`\Sent`, `\Trash`, …) or null. */
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

/** STATUS figures: the IMAP package's shape (one definition). */
export type MailboxStatus = StatusInfo;

/** What SELECT needs: the UIDs in order (sequence number n is uids[n-1]) and summary figures. */
export interface MailboxSnapshot {
  mailbox: Mailbox;
  uids: number[];
  /** UIDNEXT and HIGHESTMODSEQ as of the UIDs read (`mailbox` may be older). */
  uidNext: number;
  highestModseq: number;
  firstUnseenUid: number | null;
  /** Keywords (not system flags) on messages of this mailbox. */
  keywordsInUse: string[];
}

export interface MessageRecord {
  uid: number;
  flags: string[];
  modseq: number;
  internalDate: Date;
  size: number;
  blobId: string;
  envelope: Envelope;
  bodyStructure: BodyPart;
  /** The raw message, when asked for. */
  raw?: Buffer;
}

export interface FlagUpdate {
  uid: number;
  flags: string[];
  modseq: number;
}

export type StoreMode = "set" | "add" | "remove";

export interface StoreResult {
  updated: FlagUpdate[];
  /** RFC 7162 §3.1.3: UIDs not changed because they were modified after UNCHANGEDSINCE. */
  modified: number[];
}

/** Where copied or moved messages went (RFC 4315 COPYUID). */
export interface TransferResult {
  uidValidity: number;
  pairs: [sourceUid: number, destinationUid: number][];
  destinationMailboxId: number;
}

export interface AppendResult {
  mailboxId: number;
  uidValidity: number;
  uid: number;
}

export interface ExpungeResult {
  expunged: number[];
  modseq: number;
}

export interface Changes {
  highestModseq: number;
  /** New messages and flag changes since the MODSEQ asked for, by UID. */
  upserts: FlagUpdate[];
  expunged: number[];
}

export interface Quota {
  usedBytes: number;
  /** null: no limit. */
  limitBytes: number | null;
}

/** Refusals a caller turns into its protocol's error (IMAP NO [TRYCREATE], HTTP 404, …). */
export type MailstoreRefusal =
  | { refused: "nonexistent"; text: string }
  | { refused: "exists"; text: string }
  | { refused: "invalid-name"; text: string }
  | { refused: "inbox"; text: string }
  | { refused: "over-quota"; text: string };

export function isRefusal(x: unknown): x is MailstoreRefusal {
  return typeof x === "object" && x !== null && "refused" in x;
}

/** Where change notifications go: the transactional outbox (packages/spool) fits. */
export interface ChangeSink {
  enqueue(db: Queryable, event: MailboxChanged): Promise<PendingEvent>;
  /** For an append that writes the outbox row inside its own statement (append.ts). */
  draft(event: MailboxChanged): OutboxDraft;
  pending(id: number, draft: OutboxDraft): PendingEvent;
  /** Hands committed events to the publisher; returns at once. */
  announce(events: PendingEvent[]): void;
}

export interface MessagePage {
  messages: MessageRecord[];
  /** Pass as `beforeUid` for the next (older) page; null at the end. */
  nextBeforeUid: number | null;
  total: number;
}
