import { parseMailbox } from "@correo/directory";
import { replies } from "../replies.js";
import { accept, reject, type Verdict } from "../verdict.js";

/**
 * Whether a MAIL FROM or RCPT TO address is an RFC 5321 Mailbox (RFC 6531 UTF-8 only
 * when the transaction asked for SMTPUTF8): a syntax error is 501 with the reason;
 * the null sender `<>` is the caller's to allow. What is valid but refused anyway is
 * policy, decided after this (relayTrick, ownership, the directory).
 */
export function addressSyntax(address: string, role: "sender" | "recipient", smtpUtf8: boolean | undefined): Verdict {
  const syntax = parseMailbox(address, { utf8: smtpUtf8 ?? true });
  if (syntax.ok) return accept;
  if (syntax.utf8) return reject(role === "sender" ? replies.nonAsciiSender(address) : replies.nonAsciiRecipient(address));
  return reject(role === "sender" ? replies.senderSyntax(address, syntax.reason) : replies.recipientSyntax(address, syntax.reason));
}

/**
 * Address forms that old MTAs interpreted as routing instructions, and that turn a
 * server into an open relay when a later hop honours them (the classic relay-test
 * batteries try each): the percent hack `u%victim@hosted` (RFC 1123 §5.2.16 calls it
 * deprecated), UUCP bang paths `victim!u@hosted`, source routes `@hosted:u@victim`
 * (RFC 5321 §4.1.1.3: to be ignored; `smtp/path.ts` drops the route, leaving the
 * final address, which is then checked as any other), quoted local parts that hide an `@`
 * or a route, and IP-literal domains `u@[192.0.2.1]` that name no hosted domain.
 * Correo hosts none of these forms, so each is refused outright.
 *
 * Returns why `address` is refused, or undefined when it is an ordinary address.
 */
export function relayTrick(address: string): string | undefined {
  if (address.startsWith("@")) return "is a source route";
  const at = address.lastIndexOf("@");
  const local = at >= 0 ? address.slice(0, at) : address;
  const domain = at >= 0 ? address.slice(at + 1) : "";
  if (local.includes('"')) return "has a quoted local part";
  if (local.includes("@")) return "has more than one @";
  if (local.includes("%")) return "uses the percent hack (%)";
  if (local.includes("!")) return "is a bang path (!)";
  if (domain.startsWith("[")) return "names an IP-literal domain";
  if (local.includes(":")) return "is a source route";
  return undefined;
}

/** A source route (`@a:b@c`) or a second "@" outside quotes: routing, whatever else is wrong with the address. */
export function spellsRoute(address: string): boolean {
  return address.startsWith("@") || (!address.startsWith('"') && address.indexOf("@") !== address.lastIndexOf("@"));
}
