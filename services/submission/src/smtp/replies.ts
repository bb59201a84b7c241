/**
 * Every SMTP reply Correo's listeners give, with its RFC 3463 enhanced status code,
 * defined once. Policies return these; the listener turns them into the error the
 * smtp-server package writes to the client.
 */
export interface Reply {
  code: number;
  /** RFC 3463 class.subject.detail, e.g. "5.7.1". */
  enhanced: string;
  text: string;
}

const reply = (code: number, enhanced: string, text: string): Reply => ({ code, enhanced, text });

/** An address as a reply may echo it: no control characters, and short enough for one reply line (RFC 5321 §4.5.3.1.5). */
const shown = (address: string) => {
  const safe = address.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
  return safe.length > 100 ? `${safe.slice(0, 100)}…` : safe;
};

export const replies = {
  // RFC 5321 §3.6.2 and RFC 5321 §7.1: never relay for unauthenticated clients.
  relayDenied: (domain: string) => reply(554, "5.7.1", `Relay access denied: ${domain} is not hosted here`),
  relayTrick: (address: string, why: string) => reply(554, "5.7.1", `Relay access denied: <${shown(address)}> ${why}, refused by policy`),
  unknownUser: (address: string) => reply(550, "5.1.1", `<${shown(address)}>: recipient address rejected: user unknown`),
  mailboxDisabled: (address: string) => reply(550, "5.2.1", `<${shown(address)}>: mailbox disabled`),
  badRecipientSyntax: (address: string) => reply(553, "5.1.3", `<${shown(address)}>: not a valid address`),
  // Bounces to an SRS address of ours whose hash or age fails (packages/srs): RFC 3463
  // X.7.1, delivery not authorized — the address is ours, what it claims is not; X.1.1
  // when it does not even read as SRS (no such mailbox).
  srsRefused: (address: string, reason: "forged" | "expired" | "malformed", why: string) =>
    reply(550, reason === "malformed" ? "5.1.1" : "5.7.1", `<${shown(address)}>: ${reason} SRS address refused: ${why}`),
  // RFC 5321 §4.1.2 syntax, RFC 3463 X.1.7 / X.1.3: the reason is parseMailbox's.
  senderSyntax: (address: string, why: string) => reply(501, "5.1.7", `<${shown(address)}>: syntax error in the sender address: it ${why}`),
  recipientSyntax: (address: string, why: string) => reply(501, "5.1.3", `<${shown(address)}>: syntax error in the recipient address: it ${why}`),
  // RFC 6531: a non-ASCII address needs SMTPUTF8 on MAIL FROM; X.6.7 "non-ASCII addresses not permitted".
  nonAsciiSender: (address: string) => reply(553, "5.6.7", `<${shown(address)}>: non-ASCII sender address without SMTPUTF8 (RFC 6531)`),
  nonAsciiRecipient: (address: string) => reply(553, "5.6.7", `<${shown(address)}>: non-ASCII recipient address without SMTPUTF8 (RFC 6531)`),
  // RFC 6409 §6.1: a submission server may refuse senders the user is not allowed to use.
  senderNotOwned: (address: string) => reply(553, "5.7.1", `<${shown(address)}>: sender address not owned by the authenticated user`),
  // RFC 5321 §4.5.3.1.10
  tooManyRecipients: (max: number) => reply(452, "4.5.3", `Too many recipients (at most ${max} per message)`),
  // RFC 1870 §6
  messageTooBig: (max: number) => reply(552, "5.3.4", `Message size exceeds fixed maximum message size of ${max} bytes`),
  // Postfix's smtpd_forbid_bare_newline: the end of data is only <CR><LF>.<CR><LF> (RFC 5321 §4.1.1.4).
  bareNewline: (which: "LF" | "CR") => reply(550, "5.5.2", `Message refused: bare <${which}> received; lines must end with <CR><LF>`),
  // RFC 5322 §2.1.1 / RFC 5321 §4.5.3.1.6
  lineTooLong: (max: number) => reply(550, "5.5.2", `Message refused: a line is longer than ${max} characters`),
  // RFC 5322 §2.2: no NUL in a header field; permanent, so 5xx (RFC 3463 X.6.0: media error).
  nulInHeader: () => reply(554, "5.6.0", "Message refused: its header contains a NUL byte"),
  // RFC 5321 §6.3: a loop is assumed after too many Received: headers.
  mailLoop: (hops: number) => reply(554, "5.4.6", `Message refused: ${hops} Received: headers, mail loop detected`),
  // Issue 14, rspamd at the end of DATA. RFC 3463 X.7.1: delivery not authorized, message refused.
  spamRejected: () => reply(550, "5.7.1", "Message refused as spam"),
  // rspamd's soft reject / greylist: RFC 5321 §4.2.5, a 4yz the sender's MTA retries.
  spamDeferred: () => reply(451, "4.7.1", "Message deferred by the spam filter, try again later"),
  // RSPAMD_FAIL_CLOSED and rspamd gave no answer.
  spamCheckUnavailable: () => reply(451, "4.7.1", "Spam check unavailable, try again later"),
  // DESIGN: any failure to store durably is a temporary failure, nothing kept.
  notStored: () => reply(451, "4.3.0", "Message not stored, try again later"),
  accepted: (id: string) => reply(250, "2.6.0", `Message accepted, queued as ${id}`),
  authFailed: () => reply(535, "5.7.8", "Authentication credentials invalid"),
  // RFC 4954 §6: temporary authentication failure.
  authThrottled: (retryAfterSeconds: number) =>
    reply(454, "4.7.0", `Too many failed authentication attempts from your address, try again in ${retryAfterSeconds} seconds`),
  authUnavailable: () => reply(454, "4.7.0", "Temporary authentication failure, try again later"),
  authTooManyInSession: () => reply(421, "4.7.0", "Too many failed authentication attempts, closing connection"),
  tooManyConnections: (max: number) => reply(421, "4.7.0", `Too many connections from your address (at most ${max})`),
  sessionTimeout: () => reply(421, "4.4.2", "Session time limit exceeded, closing connection"),
  // RFC 3463 §3.4 X.3.2: system not accepting network messages (the listener's global cap).
  serverBusy: () => reply(421, "4.3.2", "Too many connections, try again later"),
  rateLimited: (limit: number) => reply(450, "4.7.1", `Message rate limit of ${limit} per hour reached, try again later`),
  temporaryLookupFailure: () => reply(451, "4.3.0", "Temporary lookup failure, try again later"),
  // Issue 14, RFC 7489 §6.6.2 / RFC 7208 §8.4: the sender's domain asks receivers to refuse; X.7.1 "delivery not authorized".
  authenticationRefused: (reason: string) => reply(550, "5.7.1", `Message refused: ${reason}`),
  // RFC 8601 §2.7 temperror, RFC 3463 X.7.0: try again once DNS answers.
  authenticationDeferred: (reason: string) => reply(451, "4.7.0", `Message deferred: ${reason}, try again later`),
} as const;

/** The line as a client reads it, e.g. "554 5.7.1 Relay access denied". */
export function formatReply(r: Reply): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

/** An Error that smtp-server writes as this reply (see enhanced-status.ts for the code). */
export function replyError(r: Reply): Error & { responseCode: number } {
  const err = new Error(`${r.enhanced} ${r.text}`) as Error & { responseCode: number };
  err.responseCode = r.code;
  return err;
}
