import { domainToASCII, domainToUnicode } from "node:url";

/**
 * One address parser for every way an address enters Correo: the RFC 5321 §4.1.2
 * `Mailbox` grammar (Dot-string or Quoted-string local part; a domain name or an
 * address literal), RFC 6531 §3.3's UTF-8 extension of it, and the size limits of
 * RFC 5321 §4.5.3.1. It only *parses*: an address is taken exactly as written or
 * refused with the reason, never repaired into another one.
 *
 * What Correo then refuses by policy (quoted local parts, address literals as
 * recipients, relay tricks) is decided by the callers, and they say it is policy.
 */
export interface Mailbox {
  /** The mailbox exactly as given. */
  address: string;
  /** As written: a Dot-string, or a Quoted-string with its quotes. */
  localPart: string;
  /** As written: a domain name, or an address literal with its brackets. */
  domain: string;
  /** The local part is a Quoted-string. */
  quoted: boolean;
  /** The domain is an address literal (RFC 5321 §4.1.3). */
  literal: "ipv4" | "ipv6" | undefined;
  /** Holds non-ASCII characters: only valid with SMTPUTF8 (RFC 6531). */
  utf8: boolean;
}

export type MailboxSyntax =
  | { ok: true; mailbox: Mailbox }
  /** `utf8`: well-formed, but non-ASCII where UTF-8 was not allowed (SMTP without SMTPUTF8). */
  | { ok: false; reason: string; utf8?: true };

export interface MailboxOptions {
  /** Whether UTF-8 local parts and domains are allowed (RFC 6531): true unless an SMTP client did not ask for SMTPUTF8. */
  utf8?: boolean;
}

// RFC 5321 §4.5.3.1.1-3: local part 64 octets, domain 255, path 256 including "<" and ">".
export const MAX_LOCAL_PART_OCTETS = 64;
export const MAX_DOMAIN_OCTETS = 255;
export const MAX_MAILBOX_OCTETS = 254;
// RFC 1035 §2.3.4
export const MAX_LABEL_OCTETS = 63;

// RFC 5322 §3.2.3 atext (RFC 5321 §4.1.2 Atom); RFC 6531 adds UTF8-non-ascii.
const ATEXT_ASCII = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]/;
const LDH_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const SNUM = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[0-9]{1,2}|0[0-9]{2})";
const IPV4 = new RegExp(`^${SNUM}(?:\\.${SNUM}){3}$`);
const HEX = /^[0-9A-Fa-f]{1,4}$/;
// RFC 5321 §4.1.3 General-address-literal: Standardized-tag ":" 1*dcontent
const GENERAL_LITERAL = /^[A-Za-z0-9-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+$/;

const octets = (s: string) => Buffer.byteLength(s, "utf8");
const nonAscii = (c: string) => c.codePointAt(0)! > 0x7f;
/** C0 controls, DEL, C1 controls and lone surrogates (which are no UTF-8 at all). */
const CONTROL = /[\x00-\x1f\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function fail(reason: string): MailboxSyntax {
  return { ok: false, reason };
}

/** RFC 5321 Mailbox (with RFC 6531 when `utf8`), or why `text` is not one. */
export function parseMailbox(text: string, opts: MailboxOptions = {}): MailboxSyntax {
  if (text === "") return fail("is empty");
  const control = CONTROL.exec(text);
  if (control) return fail(`holds the control character U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`);
  const local = scanLocalPart(text);
  if ("reason" in local) return fail(local.reason);
  const localPart = text.slice(0, local.end);
  const domain = text.slice(local.end + 1);
  if (domain === "") return fail("has no domain after the @");
  const dom = domain.startsWith("[") ? checkAddressLiteral(domain) : checkDomainName(domain);
  if (typeof dom === "string") return fail(dom);
  // RFC 5321 §4.5.3.1
  if (octets(localPart) > MAX_LOCAL_PART_OCTETS) return fail(`has a local part of ${octets(localPart)} octets; the limit is ${MAX_LOCAL_PART_OCTETS} (RFC 5321 §4.5.3.1.1)`);
  if (octets(domain) > MAX_DOMAIN_OCTETS) return fail(`has a domain of ${octets(domain)} octets; the limit is ${MAX_DOMAIN_OCTETS} (RFC 5321 §4.5.3.1.2)`);
  if (octets(text) > MAX_MAILBOX_OCTETS) return fail(`is ${octets(text)} octets long; the limit is ${MAX_MAILBOX_OCTETS} (RFC 5321 §4.5.3.1.3: 256 with the angle brackets)`);
  const utf8 = [...text].some(nonAscii);
  if (utf8 && opts.utf8 === false) return { ok: false, reason: "holds non-ASCII characters, allowed only with SMTPUTF8 (RFC 6531)", utf8: true };
  return { ok: true, mailbox: { address: text, localPart, domain, quoted: local.quoted, literal: dom.literal, utf8 } };
}

/** Where the local part ends (the index of its "@"), or why it is not a Dot-string or Quoted-string. */
function scanLocalPart(text: string): { end: number; quoted: boolean } | { reason: string } {
  if (text.startsWith('"')) {
    // RFC 5321 §4.1.2 Quoted-string: qtextSMTP = %d32-33 / %d35-91 / %d93-126, quoted-pairSMTP = "\" %d32-126.
    let i = 1;
    for (;;) {
      if (i >= text.length) return { reason: "has an unclosed quote in the local part" };
      const c = String.fromCodePoint(text.codePointAt(i)!);
      if (c === '"') break;
      if (c === "\\") {
        const next = text[i + 1];
        if (next === undefined) return { reason: "has an unclosed quote in the local part" };
        if (!(next >= " " && next <= "~")) return { reason: "escapes a character that may not be escaped in a quoted local part" };
        i += 2;
        continue;
      }
      // Controls were refused above; what is left is printable ASCII or UTF-8 (RFC 6531 qtextSMTP).
      i += c.length;
    }
    if (text[i + 1] !== "@") return { reason: i + 1 >= text.length ? "has no @" : "has text between the quoted local part and the @" };
    return { end: i + 1, quoted: true };
  }
  // RFC 5321 §4.1.2 Dot-string = Atom *("." Atom)
  const at = text.indexOf("@");
  const local = at < 0 ? text : text.slice(0, at);
  if (local === "") return { reason: at < 0 ? "has no @" : "has no local part before the @" };
  if (local.startsWith(".")) return { reason: "has a local part that starts with a dot" };
  if (local.endsWith(".")) return { reason: "has a local part that ends with a dot" };
  if (local.includes("..")) return { reason: "has two dots in a row in the local part" };
  for (const c of local) {
    if (c === "." || ATEXT_ASCII.test(c) || nonAscii(c)) continue;
    if (c === '"') return { reason: "has a quote inside an unquoted local part" };
    if (c === " ") return { reason: "has a space in an unquoted local part" };
    return { reason: `has "${c}" in an unquoted local part, where it is allowed only inside quotes` };
  }
  if (at < 0) return { reason: "has no @" };
  return { end: at, quoted: false };
}

/** RFC 5321 §4.1.2 Domain (RFC 6531: sub-domain =/ U-label), or why not. */
function checkDomainName(domain: string): { literal: undefined } | string {
  if (domain.startsWith(".")) return "has a domain that starts with a dot";
  if (domain.endsWith(".")) return "has a domain that ends with a dot";
  for (const label of domain.split(".")) {
    if (label === "") return "has two dots in a row in the domain";
    if ([...label].some(nonAscii)) {
      // A U-label: valid when IDNA gives it an A-label form (RFC 5890), which must fit a DNS label.
      // Only a label IDNA gives back unchanged: mapping (RFC 5895: soft hyphens dropped,
      // full-width letters narrowed) would make it another name than the one written.
      const ascii = domainToASCII(label);
      if (!ascii || ascii.includes(".") || !LDH_LABEL.test(ascii) || domainToUnicode(ascii) !== label.toLowerCase()) {
        return `has "${label}", which is not a valid internationalised domain label`;
      }
      if (ascii.length > MAX_LABEL_OCTETS) return `has a domain label of ${ascii.length} octets in A-label form; the limit is ${MAX_LABEL_OCTETS}`;
      continue;
    }
    if (label.includes("@")) return "has more than one @ outside quotes";
    if (label.length > MAX_LABEL_OCTETS) return `has a domain label of ${label.length} octets; the limit is ${MAX_LABEL_OCTETS} (RFC 1035 §2.3.4)`;
    if (label.startsWith("-") || label.endsWith("-")) return `has the domain label "${label}", which starts or ends with a hyphen`;
    if (!LDH_LABEL.test(label)) return `has the domain label "${label}", which holds a character other than letters, digits and hyphens`;
  }
  return { literal: undefined };
}

/** RFC 5321 §4.1.3 address-literal: `[IPv4]` or `[IPv6:…]`, or why not. */
function checkAddressLiteral(domain: string): { literal: "ipv4" | "ipv6" } | string {
  if (!domain.endsWith("]") || domain.indexOf("]") !== domain.length - 1) return "has an address literal without its closing ]";
  const inner = domain.slice(1, -1);
  if (IPV4.test(inner)) return { literal: "ipv4" };
  if (/^IPv6:/i.test(inner)) return ipv6(inner.slice(5)) ? { literal: "ipv6" } : `has "${inner}", which is not an IPv6 address as RFC 5321 §4.1.3 writes one`;
  if (GENERAL_LITERAL.test(inner)) return `has the address literal "${inner}", whose tag is not a registered one (only IPv6 is)`;
  return `has the address literal "${inner}", which is neither an IPv4 address nor IPv6:…`;
}

/**
 * RFC 5321 §4.1.3 IPv6-addr: eight groups, or "::" standing for at least two zero
 * groups beside at most six others; a trailing IPv4 address counts as two groups.
 */
function ipv6(text: string): boolean {
  let s = text;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!IPV4.test(tail)) return false;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  if (halves.length === 1) {
    const all = groups(s);
    return all.length === 8 && all.every((g) => HEX.test(g));
  }
  const [left, right] = [groups(halves[0]!), groups(halves[1]!)];
  return [...left, ...right].every((g) => HEX.test(g)) && left.length + right.length <= 6;
}
