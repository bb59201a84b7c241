/**
 * What the POP3 server needs from the rest of Correo, injected: accounts and maildrops.
 * The package knows nothing of SQL, Redis or blobs (services/retrieval implements these).
 */

export interface Pop3Account {
  id: number;
  address: string;
}

/** Checks a USER/PASS pair (or a SASL PLAIN authcid/password). */
export interface Pop3Authenticator {
  authenticate(user: string, password: string): Promise<Pop3Account | undefined>;
}

export interface MaildropMessage {
  uid: number;
  /** Octets as sent by RETR (the stored message, CRLF line ends). */
  size: number;
  /** RFC 1939 §7 (UIDL): persistent across sessions; here `<uid_validity>.<uid>`. */
  uniqueId: string;
}

/**
 * An account's maildrop, locked for this session: a snapshot taken when it was opened.
 * The login's +OK and STAT need only its totals; the listing is read when a command
 * first needs it (a listing of 10 000 messages was most of a login's time, issue 13).
 */
export interface Maildrop {
  /** Messages and octets of the snapshot (RFC 1939 §5 STAT before anything is listed). */
  readonly count: number;
  readonly octets: number;
  /**
   * The snapshot's messages in UID order, read once (later calls answer the same list);
   * message number n (RFC 1939 §3) is list[n - 1]. Messages that arrived after the
   * login are not in it.
   */
  list(): Promise<readonly MaildropMessage[]>;
  /** The stored message, or undefined when it is gone (TOP). */
  content(message: MaildropMessage): Promise<Buffer | undefined>;
  /**
   * The stored message for RETR: whole when it is small, else in chunks read as they
   * are sent; undefined when it is gone.
   */
  stream(message: MaildropMessage): Promise<Buffer | AsyncIterable<Buffer> | undefined>;
  /** UPDATE state: removes these messages for good, all or none. */
  expunge(messages: readonly MaildropMessage[]): Promise<void>;
  /** Gives the lock back; the maildrop is not used afterwards. */
  release(): Promise<void>;
}

export interface MaildropStore {
  /** Locks and opens the account's maildrop; "in-use" when another session holds it. */
  open(account: Pop3Account): Promise<Maildrop | "in-use">;
}

/** The outcome of a guarded password check (packages/login-throttle's LoginOutcome has this shape). */
export type LoginAttemptOutcome =
  | { outcome: "ok"; account: Pop3Account }
  /** Wrong name or password; the penalty delay has been waited already. */
  | { outcome: "failed"; delayMs: number }
  /** The client address is throttled; the password was not looked at. */
  | { outcome: "refused"; retryAfterMs: number };

/** Around each password check: may refuse it before the check and waits the failure delay itself. */
export type LoginGuard = (user: string, check: () => Promise<Pop3Account | undefined>) => Promise<LoginAttemptOutcome>;
