import { parseAddress } from "@correo/directory";
import { replies } from "../replies.js";
import { accept, defer, reject, type Verdict } from "../verdict.js";

/** MAIL FROM on the MX listener: the null sender `<>` (bounces, RFC 5321 §4.5.5) or a well-formed address. */
export function decideInboundSender(address: string): Verdict {
  if (address === "") return accept;
  return parseAddress(address) ? accept : reject(replies.badSenderSyntax(address));
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
