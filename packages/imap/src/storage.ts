/**
 * What the IMAP server needs from a mail store. The protocol layer knows nothing of
 * the database; retrieval's adapter implements this over packages/mailstore.
 * Refusals carry the reason the handlers turn into NO with a response code.
 */
import type { ImapValue } from "./encoder.js";

export interface ImapUser {
  id: number;
  address: string;
}

export interface MailboxInfo {
  name: string;
  specialUse: string | null;
  subscribed: boolean;
}

export interface StatusInfo {
  messages: number;
  /** Messages no session has seen as \Recent yet (RFC 3501 §6.3.10). */
  recent: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Sum of the messages' sizes (RFC 8438 STATUS SIZE). */
  size: number;
  deleted: number;
  /** RFC 8474 MAILBOXID: the mailbox's id (kept by RENAME). */
  mailboxId?: number;
  /** Sum of the sizes of the \Deleted messages (RFC 9208 §4.2 DELETED-STORAGE, in octets here). */
  deletedSize: number;
}

/** RFC 9208: the account's one quota root; `limitBytes` null when the account has no quota. */
export interface QuotaInfo {
  usedBytes: number;
  limitBytes: number | null;
}

export interface SelectInfo {
  mailboxId: number;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  uids: number[];
  firstUnseenUid: number | null;
  /** Keywords (not system flags) on messages of this mailbox: FLAGS and PERMANENTFLAGS list them. */
  keywordsInUse: string[];
  /** RFC 3501 §2.3.2: the UIDs that are \Recent for this session (claimed by SELECT; not yet claimed, for EXAMINE). */
  recentUids: number[];
}

/** RFC 3501 §7.4.2 address structure; a group start has mailbox = group name and host null, its end all null. */
export interface EnvelopeAddress {
  name: string | null;
  /** The source route (at-domain-list, `@a,@b`) of an obsolete route address, else NIL. */
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** A MIME part with its byte offsets in the raw message (see packages/mailstore mime-structure). */
export interface BodyPart {
  type: string;
  subtype: string;
  params: [string, string][];
  id: string | null;
  description: string | null;
  encoding: string;
  /** Octets of the body (after the part's header). */
  size: number;
  /** Lines of the body; text/* and message/rfc822 only. */
  lines?: number;
  md5: string | null;
  disposition: { type: string; params: [string, string][] } | null;
  language: string[] | null;
  location: string | null;
  /** Byte offsets in the raw message: where this part's header starts, its body starts, and both end. */
  headerStart: number;
  bodyStart: number;
  end: number;
  /** multipart/*: the sub-parts in order. */
  parts?: BodyPart[];
  /** message/rfc822: the encapsulated message. */
  message?: { envelope: Envelope; body: BodyPart };
}

export interface MessageData {
  uid: number;
  flags: string[];
  modseq: number;
  internalDate: Date;
  size: number;
  envelope: Envelope;
  bodyStructure: BodyPart;
  raw?: Buffer;
  /** The content's id (SHA-256): RFC 8474 EMAILID. */
  blobId?: string;
}

/**
 * What FETCH's summary items need (FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE,
 * BODYSTRUCTURE, MODSEQ, EMAILID), with ENVELOPE and BODYSTRUCTURE ready to send: the
 * response text stored with the message as an atom (`summaryTexts` in body-section.ts),
 * else the values built from its structure.
 */
export interface MessageSummary {
  uid: number;
  flags: string[];
  modseq: number;
  internalDate: Date;
  size: number;
  blobId?: string;
  envelopeItem: ImapValue;
  bodyStructureItem: ImapValue;
}

export interface AppendMessage {
  raw: Buffer;
  flags: readonly string[];
  internalDate: Date | undefined;
  /** Sent as a literal8 (RFC 3516 §4.2): may hold binary parts, which the store keeps base64-encoded. */
  binary?: boolean;
}

export interface FlagState {
  uid: number;
  flags: string[];
  modseq: number;
}

export type Refusal = { refused: "nonexistent" | "exists" | "invalid-name" | "inbox" | "over-quota"; text: string };

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === "object" && x !== null && "refused" in x;
}

/** SEARCH criteria, resolved to UIDs and calendar days (see commands/search.ts). */
/** RFC 3501 §2.3.2: the system flags a client may set, in their canonical case and in the order FLAGS lists them. */
export const SYSTEM_FLAGS: readonly string[] = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];
const SYSTEM_FLAG_BY_LOWER = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** A system flag named in any case, in its canonical case; undefined for a keyword or an unknown flag (system flags are case-insensitive). */
export function systemFlag(name: string): string | undefined {
  return SYSTEM_FLAG_BY_LOWER.get(name.toLowerCase());
}

export type SearchKey =
  | { key: "all" }
  | { key: "none" }
  /** A system flag or keyword, present (`set`) or absent. */
  | { key: "flag"; flag: string; set: boolean }
  | { key: "uid"; ranges: [number, number][] }
  /** Dates compare as calendar days, disregarding time and timezone (YYYY-MM-DD, UTC). */
  | { key: "date"; field: "internal" | "sent"; op: "before" | "on" | "since"; day: string }
  /** RFC 5032 WITHIN: internal date earlier than (`before`) or at/after (`since`) an instant, epoch ms. */
  | { key: "instant"; op: "before" | "since"; at: number }
  | { key: "size"; op: "larger" | "smaller"; octets: number }
  | { key: "header"; field: string; value: string }
  | { key: "body"; value: string }
  | { key: "text"; value: string }
  | { key: "modseq"; modseq: number }
  /** RFC 8474 §6 SEARCH EMAILID: the messages with this content (blob id). */
  | { key: "blob"; blobId: string }
  | { key: "not"; inner: SearchKey }
  | { key: "or"; left: SearchKey; right: SearchKey }
  | { key: "and"; keys: SearchKey[] };

export interface ImapStorage {
  authenticate(user: string, password: string): Promise<ImapUser | undefined>;
  listMailboxes(user: ImapUser): Promise<MailboxInfo[]>;
  /** The subscribed names (RFC 3501 §6.3.6), also of mailboxes that no longer exist. */
  listSubscriptions(user: ImapUser): Promise<string[]>;
  /** `specialUse`: RFC 6154 §3 CREATE … (USE (\\Junk)), one attribute in canonical case. */
  createMailbox(user: ImapUser, name: string, specialUse?: string | null): Promise<true | Refusal>;
  deleteMailbox(user: ImapUser, name: string): Promise<true | Refusal>;
  renameMailbox(user: ImapUser, from: string, to: string): Promise<true | Refusal>;
  setSubscribed(user: ImapUser, name: string, subscribed: boolean): Promise<true | Refusal>;
  status(user: ImapUser, name: string): Promise<StatusInfo | Refusal>;
  /** SELECT (`claimRecent`) claims the messages no session has seen as \Recent; EXAMINE only looks. */
  select(user: ImapUser, name: string, opts: { claimRecent: boolean }): Promise<SelectInfo | Refusal>;
  /**
   * RFC 3501 §2.3.2: the highest UID of the mailbox some SELECT had claimed as \Recent; with
   * `claim`, atomically raises it to `upToUid`. UIDs above the returned value (and up to
   * `upToUid`) are \Recent for the caller.
   */
  claimRecent(mailboxId: number, upToUid: number, claim: boolean): Promise<number>;
  fetch(mailboxId: number, uids: readonly number[], opts: { raw: boolean }): Promise<MessageData[]>;
  /** The summaries of these messages, in UID order (absent UIDs are skipped). */
  fetchSummaries?(mailboxId: number, uids: readonly number[]): Promise<MessageSummary[]>;
  fetchFlags(mailboxId: number, uids: readonly number[]): Promise<FlagState[]>;
  store(
    mailboxId: number,
    uids: readonly number[],
    mode: "set" | "add" | "remove",
    flags: readonly string[],
    unchangedSince?: number,
  ): Promise<{ updated: FlagState[]; modified: number[] }>;
  search(mailboxId: number, criteria: SearchKey): Promise<number[]>;
  copy(user: ImapUser, mailboxId: number, uids: readonly number[], destination: string): Promise<{ uidValidity: number; pairs: [number, number][] } | Refusal>;
  move(
    user: ImapUser,
    mailboxId: number,
    uids: readonly number[],
    destination: string,
  ): Promise<{ uidValidity: number; pairs: [number, number][]; expunged: number[] } | Refusal>;
  expunge(mailboxId: number, uids?: readonly number[]): Promise<{ expunged: number[]; modseq: number }>;
  /** APPEND of one or (RFC 3502 MULTIAPPEND) more messages: all stored in one transaction, or none; `uids` in order. */
  append(user: ImapUser, mailbox: string, messages: readonly AppendMessage[]): Promise<{ uidValidity: number; uids: number[] } | Refusal>;
  /** A leaf part's body as text: transfer- and charset-decoded (RFC 8970 PREVIEW). */
  partText?(raw: Buffer, part: BodyPart): string;
  /** RFC 9208 GETQUOTA/GETQUOTAROOT: the account's storage quota (absent: QUOTA is not offered). */
  quota?(user: ImapUser): Promise<QuotaInfo>;
  /** RFC 2047 encoded words in a header value, decoded (SORT compares decoded subjects, RFC 5256 §2.1 step 1). */
  decodeHeader(value: string): string;
  changesSince(mailboxId: number, modseq: number): Promise<{ highestModseq: number; upserts: FlagState[]; expunged: number[] }>;
  /** RFC 4467 URLFETCH: the enabled account with this address, whose URLAUTH URL another user may fetch. */
  findUser(address: string): Promise<ImapUser | undefined>;
  /**
   * RFC 4467 §3: the access key of the user's mailbox, made first with `create` (GENURLAUTH);
   * undefined when the mailbox does not exist, or has no key and `create` is false.
   */
  mailboxAccessKey(user: ImapUser, mailbox: string, create: boolean): Promise<Buffer | undefined>;
  /** RFC 4467 §7.3 RESETKEY: forgets the key of one mailbox, or of all the user's; false when the mailbox does not exist. */
  resetAccessKeys(user: ImapUser, mailbox?: string): Promise<boolean>;
}

/** Wakes sessions when a mailbox changes (in this or any other process). */
export interface ChangeNotifier {
  /** Calls `onChange` for each change of the mailbox until the returned function is called. */
  watch(mailboxId: number, onChange: () => void): () => void;
  /** RFC 5465 NOTIFY: calls `onChange` for each change of any mailbox of the account (messages, names, subscriptions) until the returned function is called. */
  watchAccount?(accountId: number, onChange: () => void): () => void;
  /** A session of this process created, deleted, renamed or (un)subscribed a mailbox of the account. */
  accountChanged?(accountId: number): void;
}
