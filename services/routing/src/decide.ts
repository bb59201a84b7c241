/**
 * Routing decisions, pure: the seed's "the domain names the server, the local part
 * names the mailbox". Lookups happen before; this only decides.
 */
export type RouteVerdict =
  | { kind: "local"; accountId: number; mailbox: string }
  | { kind: "remote"; domain: string }
  | { kind: "bounce"; code: number; enhanced: string; text: string };

export interface RecipientFacts {
  recipient: string;
  /** Lower-case A-label domain, or undefined when the address cannot be parsed. */
  domain: string | undefined;
  hosted: boolean;
  account: { id: number; enabled: boolean } | undefined;
}

export function decideRoute(f: RecipientFacts): RouteVerdict {
  if (!f.domain) {
    // RFC 3463: 5.1.3 bad destination mailbox address syntax.
    return { kind: "bounce", code: 550, enhanced: "5.1.3", text: `<${f.recipient}>: not a valid address` };
  }
  if (!f.hosted) return { kind: "remote", domain: f.domain };
  if (!f.account) {
    return { kind: "bounce", code: 550, enhanced: "5.1.1", text: `<${f.recipient}>: no such mailbox here` };
  }
  if (!f.account.enabled) {
    return { kind: "bounce", code: 550, enhanced: "5.2.1", text: `<${f.recipient}>: mailbox disabled` };
  }
  return { kind: "local", accountId: f.account.id, mailbox: "INBOX" };
}

export function replyText(v: { code: number; enhanced: string; text: string }): string {
  return `${v.code} ${v.enhanced} ${v.text}`;
}
