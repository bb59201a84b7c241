import { domainToASCII, domainToUnicode } from "node:url";
import { parseMailbox, type Mailbox } from "./mailbox-syntax.js";

export interface ParsedAddress {
  localPart: string;
  /** Lower-case A-label form (IDNA), the form domains are stored in. */
  domain: string;
}

/**
 * A mailbox Correo can route and look up: an RFC 5321 Mailbox (`parseMailbox`) with a
 * Dot-string local part and a domain name. Only the domain is normalised (A-labels,
 * lower case): local parts are kept as written (RFC 5321 §2.4) and compared
 * case-insensitively by lookups. Quoted local parts and address literals are valid
 * syntax, but Correo routes neither (`unroutable` says so, as policy): in practice
 * they serve to smuggle a second `@` or `%` route past relay checks.
 */
export function parseAddress(address: string): ParsedAddress | undefined {
  const syntax = parseMailbox(address);
  if (!syntax.ok || unroutable(syntax.mailbox)) return undefined;
  const domain = domainKey(syntax.mailbox.domain);
  return domain ? { localPart: syntax.mailbox.localPart, domain } : undefined;
}

/**
 * Why the directory does not take `address`, as the end of a sentence for an error
 * ("'x' is not an e-mail address: it has …"), telling syntax from policy; or undefined.
 */
export function addressProblem(address: string): string | undefined {
  const syntax = parseMailbox(address);
  if (!syntax.ok) return `is not an e-mail address: it ${syntax.reason}`;
  const policy = unroutable(syntax.mailbox);
  if (policy) return `is refused by policy: it ${policy}`;
  return parseAddress(address) ? undefined : "is not an e-mail address: its domain has no valid A-label form";
}

/** Why Correo refuses a syntactically valid mailbox by policy, or undefined when it routes it. */
export function unroutable(mailbox: Mailbox): string | undefined {
  if (mailbox.quoted) return "has a quoted local part, which Correo does not route";
  if (mailbox.literal) return "names an address literal, which Correo does not route";
  return undefined;
}

/** The A-label, lower-case form of a domain name (one label or more), or undefined. */
function domainKey(domain: string): string | undefined {
  // Label by label: the WHATWG host parser behind domainToASCII takes a name ending in a
  // number for an IPv4 address and refuses it, and `iana.123` is a valid domain (RFC 5321).
  const ascii = domain
    .split(".")
    .map((l) => (/^[\x00-\x7f]*$/.test(l) ? l : domainToASCII(l) || "\u0000"))
    .join(".")
    .toLowerCase();
  if (!ascii || ascii.length > 253) return undefined;
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  return ascii.split(".").every((l) => label.test(l)) ? ascii : undefined;
}

/**
 * Lower-case A-label form of a domain name given to the directory (a hosted domain, an
 * API key's, a transport's), or undefined when it is not one. A trailing dot (the
 * absolute form) is the same name; a hosted domain has at least two labels.
 */
export function normalizeDomain(domain: string): string | undefined {
  const ascii = domainKey(domain.trim().replace(/\.$/, ""));
  return ascii && ascii.includes(".") ? ascii : undefined;
}

/** The U-label (Unicode) form of a stored A-label domain, for people to read (RFC 5890 §2.3.2.1). */
export function domainUnicode(domain: string): string {
  return domainToUnicode(domain) || domain;
}

/**
 * The form two addresses are compared in: local part lower-cased (RFC 5321 §2.4 lets a
 * server treat it case-insensitively, as every real one does), domain in A-labels.
 */
export function addressKey(address: string): string | undefined {
  const p = parseAddress(address);
  return p && `${p.localPart.toLowerCase()}@${p.domain}`;
}

/** `alice+news` → base `alice`, tag `news` (plus-addressing, RFC 5233 subaddress). */
export function splitSubaddress(localPart: string): { base: string; tag: string | undefined } {
  const plus = localPart.indexOf("+");
  return plus > 0 ? { base: localPart.slice(0, plus), tag: localPart.slice(plus + 1) } : { base: localPart, tag: undefined };
}
