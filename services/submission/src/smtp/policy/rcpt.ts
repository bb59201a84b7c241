import { postmasterForm, type RecipientStatus } from "@correo/directory";
import { replies } from "../replies.js";
import { accept, defer, reject, type Verdict } from "../verdict.js";
import { addressSyntax, relayTrick, spellsRoute } from "./address.js";

export interface RcptContext {
  /** True after SMTP AUTH (submission listeners); the MX listener never authenticates. */
  authenticated: boolean;
  /** Recipients already accepted in this transaction. */
  accepted: number;
  maxRecipients: number;
  /** Whether MAIL FROM carried SMTPUTF8 (RFC 6531): UTF-8 addresses only then; unset allows them. */
  smtpUtf8?: boolean;
}

/** Checks that need no directory lookup: syntax, relay tricks and the recipient limit. */
export function precheckRecipient(address: string, ctx: RcptContext): Verdict {
  // RFC 5321 §4.1.1.3: `<Postmaster>` has no domain and is still a recipient every
  // server takes; the directory says where it goes.
  if (postmasterForm(address) !== "bare") {
    // RFC 5321 §4.1.2 syntax (501), then policy for valid addresses. A malformed address
    // that spells a route (a second @ outside quotes, a source route left over) is
    // answered as the relay trick it is, 5.7.1, as open-relay test batteries expect.
    const syntax = addressSyntax(address, "recipient", ctx.smtpUtf8);
    const trick = relayTrick(address);
    if (trick && (syntax.verdict === "accept" || spellsRoute(address))) return reject(replies.relayTrick(address, trick));
    if (syntax.verdict !== "accept") return syntax;
  }
  // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client sends the rest later.
  if (ctx.accepted >= ctx.maxRecipients) return defer(replies.tooManyRecipients(ctx.maxRecipients));
  return accept;
}

/**
 * RCPT TO against the directory. Unauthenticated clients (the MX listener) may only
 * reach existing recipients of hosted domains: no open relay (DESIGN). An
 * authenticated account may send anywhere, but an unknown user of a hosted domain is
 * refused now rather than bounced later.
 */
export function decideRecipient(address: string, status: RecipientStatus, ctx: RcptContext): Verdict {
  switch (status.kind) {
    case "local":
    // An alias or a domain's catch-all: routing expands it to its targets.
    case "alias":
    // An inbound route (issue 15): accepted without an account, POSTed to its endpoint.
    case "inbound":
      return accept;
    case "disabled":
      return reject(replies.mailboxDisabled(address));
    case "unknown":
      return reject(replies.unknownUser(address));
    case "not-hosted":
      return ctx.authenticated ? accept : reject(replies.relayDenied(status.domain));
    case "invalid":
    default:
      return reject(replies.badRecipientSyntax(address));
  }
}
