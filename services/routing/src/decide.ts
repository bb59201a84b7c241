import { JUNK_MAILBOX } from "@correo/contracts";
import type { RecipientStatus } from "@correo/directory";

/**
 * Routing decisions, pure: the seed's "the domain names the server, the local part
 * names the mailbox". Lookups happen before; this only decides.
 */
export type RouteVerdict =
  | { kind: "local"; accountId: number; account: string; mailbox: string }
  | { kind: "remote"; domain: string }
  | { kind: "expand"; alias: string; targets: string[]; catchAll: boolean }
  | { kind: "bounce"; code: number; enhanced: string; text: string };

export interface RecipientFacts {
  recipient: string;
  status: RecipientStatus;
  /** The MX's verdict was "junk" (messages.quarantine, issue 14): local delivery goes to Junk. */
  quarantine?: boolean;
}


export function decideRoute(f: RecipientFacts): RouteVerdict {
  const s = f.status;
  switch (s.kind) {
    case "invalid":
      // RFC 3463: 5.1.3 bad destination mailbox address syntax.
      return { kind: "bounce", code: 550, enhanced: "5.1.3", text: `<${f.recipient}>: not a valid address` };
    case "not-hosted": {
      const domain = s.domain;
      return { kind: "remote", domain };
    }
    case "unknown":
      // RFC 3463: 5.1.1 bad destination mailbox address.
      return { kind: "bounce", code: 550, enhanced: "5.1.1", text: `<${f.recipient}>: no such mailbox here` };
    case "disabled":
      // RFC 3463: 5.2.1 mailbox disabled, not accepting messages.
      return { kind: "bounce", code: 550, enhanced: "5.2.1", text: `<${f.recipient}>: mailbox disabled` };
    case "alias":
      return { kind: "expand", alias: s.address, targets: s.targets, catchAll: s.catchAll };
    case "local":
      // Quotas are the mailbox's to enforce, under its row lock: over quota is a
      // temporary failure there (452 4.2.2), not a bounce decided here.
      return { kind: "local", accountId: s.accountId, account: s.address, mailbox: f.quarantine ? JUNK_MAILBOX : "INBOX" };
  }
}

export function replyText(v: { code: number; enhanced: string; text: string }): string {
  return `${v.code} ${v.enhanced} ${v.text}`;
}
