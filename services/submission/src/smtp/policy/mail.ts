import { replies } from "../replies.js";
import { accept, defer, reject, type Verdict } from "../verdict.js";
import { addressSyntax } from "./address.js";

/**
 * MAIL FROM syntax on every listener: the null sender `<>` (bounces, RFC 5321 §4.5.5)
 * or an RFC 5321 Mailbox, address literals and quoted local parts included.
 */
export function senderSyntax(address: string, smtpUtf8?: boolean): Verdict {
  return address === "" ? accept : addressSyntax(address, "sender", smtpUtf8);
}

/** MAIL FROM on the MX listener: any syntactically valid sender (see senderSyntax). */
export function decideInboundSender(address: string, smtpUtf8?: boolean): Verdict {
  return senderSyntax(address, smtpUtf8);
}

export interface SubmissionSenderContext {
  /** Whether the directory says the authenticated account may use `address` (its own, its aliases). */
  owned: boolean;
  /** Messages the account submitted in the current hour, and its limit. */
  sentThisHour: number;
  messagesPerHour: number;
}

/**
 * MAIL FROM after AUTH (RFC 6409 §6.1): only addresses the account owns; a
 * submission never uses the null sender, which is reserved for DSNs.
 */
export function decideSubmissionSender(address: string, ctx: SubmissionSenderContext): Verdict {
  if (address === "" || !ctx.owned) return reject(replies.senderNotOwned(address));
  if (ctx.sentThisHour >= ctx.messagesPerHour) return defer(replies.rateLimited(ctx.messagesPerHour));
  return accept;
}
