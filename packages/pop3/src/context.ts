/**
 * The state one POP3 connection carries, and the shape of a command. Commands
 * (commands/*.ts) read and change a Pop3Context; the session (session.ts) owns it and
 * dispatches to them. Neither imports the other: both import this file.
 */
import { err, type Pop3Response } from "./response.js";
import { parseMessageNumber } from "./syntax/arguments.js";
import type { LoginGuard, Maildrop, MaildropMessage, MaildropStore, Pop3Account, Pop3Authenticator } from "./storage.js";

/** RFC 1939 §3: AUTHORIZATION → TRANSACTION → UPDATE. */
export type Pop3State = "AUTHORIZATION" | "TRANSACTION" | "UPDATE";

/** SASL mechanisms offered (RFC 5034 §3, the SASL capability). */
export const SASL_MECHANISMS = ["PLAIN"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Hooks for metrics and logs; all optional. */
export interface SessionObserver {
  command?(name: string): void;
  authFailed?(user: string): void;
  loggedIn?(account: Pop3Account): void;
  error?(error: unknown, command: string): void;
}

/** What the connection offers; the listener knows it, the session decides with it. */
export interface ConnectionSecurity {
  /** TLS is active from the start (POP3S, RFC 8314 §3.3). */
  tls: boolean;
  /** STLS can be offered: a certificate is loaded (RFC 2595 §4). */
  stlsAvailable: boolean;
  /** USER/PASS and AUTH PLAIN are allowed before TLS (auth-policy.ts). */
  plaintextAuth: boolean;
}

export interface SessionOptions {
  hostname: string;
  /** Without it: no TLS, no STLS, plaintext logins allowed (what unit tests and plain listeners need). */
  security?: ConnectionSecurity;
  authenticator: Pop3Authenticator;
  store: MaildropStore;
  /** Waited after each failed PASS, to slow down password guessing (RFC 1939 §13), when there is no `guardLogin`. */
  delayAfterAuthFailure?: () => Promise<void>;
  /**
   * Around each password check (PASS, AUTH): may refuse the attempt before the check (a
   * throttled client address) and waits the delay of a failure itself (packages/login-throttle).
   */
  guardLogin?: LoginGuard;
  /** The connection is closed after this many failed PASS commands. */
  maxAuthFailures?: number;
  observer?: SessionObserver;
}

export interface Pop3Context {
  readonly options: SessionOptions;
  state: Pop3State;
  /** The name given by USER, waiting for PASS. */
  user: string | undefined;
  authFailures: number;
  /** Locked and open from the login to QUIT or the end of the connection. */
  maildrop: Maildrop | undefined;
  /** The maildrop's listing, once a command needed it (`listMessages`). */
  listed: readonly MaildropMessage[] | undefined;
  /** Message numbers marked by DELE (RFC 1939 §6: removed only in UPDATE). */
  readonly deleted: Set<number>;
  /** QUIT was answered or the connection is gone. */
  closed: boolean;
  tls: boolean;
  /** A SASL exchange waits for the client's response line (RFC 5034 §4). */
  saslPending: SaslMechanism | undefined;
}

/** One command: the states it is valid in (RFC 1939 §4–§7, RFC 2449 §5) and what it does. */
export interface CommandHandler {
  readonly name: string;
  readonly validIn: readonly Pop3State[];
  run(ctx: Pop3Context, args: readonly string[]): Promise<Pop3Response> | Pop3Response;
}

export function newContext(options: SessionOptions): Pop3Context {
  return {
    options,
    state: "AUTHORIZATION",
    user: undefined,
    authFailures: 0,
    maildrop: undefined,
    listed: undefined,
    deleted: new Set(),
    closed: false,
    tls: options.security?.tls ?? false,
    saslPending: undefined,
  };
}

// --- the maildrop as the commands see it ----------------------------------------------

/** The listing read so far: empty until `listMessages`. */
export function messages(ctx: Pop3Context): readonly MaildropMessage[] {
  return ctx.listed ?? [];
}

/** Reads the maildrop's listing if no command has yet; every command about one message or all of them calls it first. */
export async function listMessages(ctx: Pop3Context): Promise<void> {
  if (ctx.listed || !ctx.maildrop) return;
  ctx.listed = await ctx.maildrop.list();
}

/** The messages not marked as deleted, and their octets (STAT, RSET, the login's +OK). */
export function totals(ctx: Pop3Context): { count: number; octets: number } {
  // Nothing listed yet means nothing marked yet (DELE lists first): the snapshot's totals.
  if (!ctx.listed) return { count: ctx.maildrop?.count ?? 0, octets: ctx.maildrop?.octets ?? 0 };
  let count = 0;
  let octets = 0;
  messages(ctx).forEach((m, i) => {
    if (ctx.deleted.has(i + 1)) return;
    count++;
    octets += m.size;
  });
  return { count, octets };
}

/** Whether a password may be taken on this connection now (RFC 2595 §2.2, auth-policy.ts). */
export function loginAllowed(ctx: Pop3Context): boolean {
  return ctx.tls || (ctx.options.security?.plaintextAuth ?? true);
}

/** Gives the maildrop lock back, once; a lock that cannot be released expires by itself. */
export async function releaseMaildrop(ctx: Pop3Context): Promise<void> {
  const maildrop = ctx.maildrop;
  ctx.maildrop = undefined;
  if (!maildrop) return;
  await maildrop.release().catch((error: unknown) => ctx.options.observer?.error?.(error, "release"));
}

/** A message number that exists in this session's snapshot (deleted or not). */
export function messageNumber(ctx: Pop3Context, arg: string | undefined): number | undefined {
  const n = parseMessageNumber(arg);
  return n !== undefined && n <= messages(ctx).length ? n : undefined;
}

/** RFC 1939 §5: a message marked as deleted may not be referred to. */
export function lookUpMessage(ctx: Pop3Context, arg: string | undefined): { n: number; message: MaildropMessage } | { error: Pop3Response } {
  const n = messageNumber(ctx, arg);
  if (n === undefined || ctx.deleted.has(n)) return { error: err("no such message") };
  return { n, message: messages(ctx)[n - 1]! };
}
