import { domainToASCII, domainToUnicode } from "node:url";

export interface ParsedAddress {
  localPart: string;
  /** Lower-case A-label form (IDNA), the form domains are stored in. */
  domain: string;
}

/**
 * Splits `local@domain` at the last `@`. Only the domain is normalised: local parts
 * are kept as written (RFC 5321 §2.4) and compared case-insensitively by lookups.
 * Quoted local parts and specials are refused: legal in RFC 5321 §4.1.2, but in
 * practice only used to smuggle a second `@` or `%` route past relay checks.
 */
export function parseAddress(address: string): ParsedAddress | undefined {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return undefined;
  const localPart = address.slice(0, at);
  const domain = normalizeDomain(address.slice(at + 1));
  if (!domain || /[\s<>()\[\],;:\\"]/.test(localPart)) return undefined;
  return { localPart, domain };
}

/** Lower-case A-label form of a domain name, or undefined when it is not one. */
export function normalizeDomain(domain: string): string | undefined {
  const ascii = domainToASCII(domain.trim().replace(/\.$/, "")).toLowerCase();
  if (!ascii || ascii.length > 253) return undefined;
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((l) => label.test(l))) return undefined;
  return ascii;
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
