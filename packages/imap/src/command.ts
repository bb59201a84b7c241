/**
 * The contract between the session (session.ts) and the command handlers (commands/*.ts):
 * the connection's state as a handler sees it (`CommandSession`), a command's context and
 * its handler's shape. Both sides import this file and neither imports the other, so the
 * session can dispatch to the command table without the commands depending on it.
 */
import type { Completion, ImapValue } from "./encoder.js";
import type { FramedLine } from "./framer.js";
import type { Token } from "./parser.js";
import type { SearchContext } from "./context.js";
import type { ChangeNotifier, ImapStorage, ImapUser } from "./storage.js";
import type { NotifyRequest } from "./syntax/notify.js";

/** RFC 3501 §3: not authenticated → authenticated → selected → logout. */
export type SessionState = "not-authenticated" | "authenticated" | "selected" | "logout";

export interface SessionIO {
  /** Writes bytes; resolves when the socket can take more. */
  write(data: Buffer): Promise<void>;
  /** The next line from the client (AUTHENTICATE responses, IDLE's DONE); undefined when the connection ended. */
  nextLine(): Promise<FramedLine | undefined>;
  /** Resolves when a line is waiting or the connection ended, without taking it. */
  lineAvailable(): Promise<void>;
  /** STARTTLS: upgrades the connection after the tagged OK was written. */
  startTls?: () => Promise<void>;
  /**
   * RFC 4978 COMPRESS=DEFLATE: from now on the client's octets are inflated; `sendOk` writes
   * the tagged OK uncompressed, after which everything written is deflated.
   */
  startCompression?: (sendOk: () => Promise<void>) => Promise<void>;
}

export interface SessionOptions {
  hostname: string;
  storage: ImapStorage;
  notifier?: ChangeNotifier;
  io: SessionIO;
  /** The connection is already TLS (implicit TLS port or after STARTTLS). */
  secure: boolean;
  /** Whether STARTTLS is offered. */
  tlsAvailable: boolean;
  /** Pause before answering a failed login (when there is no `guardLogin`). */
  delayAfterAuthFailure?: () => Promise<void>;
  /**
   * Around each password check (LOGIN, AUTHENTICATE): may refuse the attempt before the
   * check (a throttled client address) and waits the delay of a failure itself.
   */
  guardLogin?: LoginGuard;
  observer?: SessionObserver;
  /** RFC 7889 APPENDLIMIT: the largest message APPEND takes, in octets (the listener's literal limit). */
  appendLimit?: number;
}

export type LoginAttemptOutcome =
  | { outcome: "ok"; account: ImapUser }
  | { outcome: "failed" }
  | { outcome: "refused"; retryAfterMs: number };

export type LoginGuard = (user: string, check: () => Promise<ImapUser | undefined>) => Promise<LoginAttemptOutcome>;

export interface SessionObserver {
  command?(name: string): void;
  authFailed?(user: string): void;
  loggedIn?(user: ImapUser): void;
  error?(error: unknown, command: string): void;
}

export interface SelectedMailbox {
  mailboxId: number;
  name: string;
  readOnly: boolean;
  uidValidity: number;
  /** UIDs in sequence order: message n has uids[n-1]. */
  uids: number[];
  /** The MODSEQ up to which this session has seen the mailbox's changes. */
  knownModseq: number;
  /** MODSEQ of the flags last reported per UID, so one change is reported once. */
  reported: Map<number, number>;
  /** RFC 3501 §2.3.2: the UIDs that are \Recent in this session (claimed by its SELECT or while selected). */
  recent: Set<number>;
  /** The keywords the last untagged FLAGS listed (RFC 3501 §7.2.6), lower case → as shown. */
  keywords: Map<string, string>;
  /** RFC 5267 §4.3: the results kept up to date, by correlator (tag). */
  contexts: Map<string, SearchContext>;
  /** RFC 5182: the UIDs `$` names (SEARCH RETURN (SAVE)); empty after SELECT. */
  saved: number[];
  dirty: boolean;
  unwatch: () => void;
}

/** What SELECT / EXAMINE hand the session; it adds the watch and the bookkeeping. */
export type Selection = Omit<SelectedMailbox, "unwatch" | "dirty" | "reported" | "keywords" | "contexts" | "saved"> & { keywords: readonly string[] };

/** The members of the session (ImapSession) that command handlers use, and no more. */
export interface CommandSession {
  state: SessionState;
  user: ImapUser | undefined;
  selected: SelectedMailbox | undefined;
  /** RFC 5161 ENABLE'd extensions. */
  readonly enabled: Set<string>;
  /** RFC 7162 §3.1: CONDSTORE is on once enabled or used. */
  condstore: boolean;
  /** RFC 4978: COMPRESS DEFLATE is active. */
  compressed: boolean;
  secure: boolean;
  readonly storage: ImapStorage;
  readonly opts: SessionOptions;
  /** Set while IDLE waits, to push changes at once. */
  onChange: (() => void) | undefined;
  /** RFC 6855 §3 UTF8=ACCEPT, or IMAP4rev2: mailbox names are UTF-8. */
  readonly utf8: boolean;
  /** RFC 9051 Appendix E: the session uses IMAP4rev2 semantics. */
  readonly rev2: boolean;
  /** RFC 7162 §3.2.3: QRESYNC is enabled. */
  readonly qresync: boolean;
  enableCondstore(): Promise<void>;
  capabilities(): string[];
  /** Untagged response. */
  send(items: ImapValue[]): Promise<void>;
  write(data: Buffer): Promise<void>;
  continue(text?: string): Promise<void>;
  nextLine(): Promise<FramedLine | undefined>;
  setSelected(sel: Selection): void;
  unselect(): void;
  shownFlags(uid: number, flags: readonly string[]): readonly string[];
  flagValues(uid: number, flags: readonly string[]): ImapValue[];
  showsRecent(uid: number): boolean;
  announceKeywords(flags: readonly string[]): Promise<void>;
  reportChanges(allowExpunge: boolean, force?: boolean): Promise<void>;
  reportExpunged(uids: readonly number[]): Promise<void>;
  updateContexts(): Promise<void>;
  setNotify(request: NotifyRequest<string>): Promise<void>;
  /** One NOTIFY push; does nothing without NOTIFY SET. */
  notifyPush(): Promise<void>;
}

export interface CommandContext {
  tag: string;
  name: string;
  args: Token[];
  /** UID variant (UID FETCH, UID STORE …). */
  uid: boolean;
  session: CommandSession;
}

export type CommandHandler = (ctx: CommandContext) => Promise<Completion>;

export interface CommandSpec {
  states: SessionState[];
  handler: CommandHandler;
  /** RFC 3501 §7.4.1: EXPUNGE responses must not be sent while these run (they use sequence numbers). */
  noExpungeUpdates?: boolean;
}
