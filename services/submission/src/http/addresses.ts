import { parseHeaderMailbox, parseMailbox, unroutable } from "@correo/directory";

export type FieldError = { field: string; message: string };

/** One address of a request, as the message header writes it (display name, "" when none) and as the envelope takes it. */
export interface FieldAddress {
  name: string;
  address: string;
}

const itemsOf = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The addresses of one request field ('Name <a@b>' or 'a@b', one or a list), read by
 * the same parser as SMTP (@correo/directory: an RFC 5322 mailbox whose addr-spec is
 * an RFC 5321 Mailbox), taken as written or refused with an error naming the field:
 * "not an e-mail address" for syntax, "refused by policy" for valid addresses Correo
 * does not route (quoted local parts, address literals).
 */
export function addressesOf(field: string, value: string | string[] | undefined, errors: FieldError[]): FieldAddress[] {
  const out: FieldAddress[] = [];
  itemsOf(value).forEach((item, i) => {
    const where = Array.isArray(value) ? `${field}[${i}]` : field;
    const syntax = parseHeaderMailbox(item);
    if (!syntax.ok) return void errors.push({ field: where, message: `'${item}' is not one e-mail address: it ${syntax.reason}` });
    const policy = unroutable(syntax.value.mailbox);
    if (policy) return void errors.push({ field: where, message: `'${item}' is refused by policy: it ${policy}` });
    out.push({ name: syntax.value.displayName, address: syntax.value.mailbox.address });
  });
  return out;
}

/** Envelope addresses given bare (the raw route's `from` and `to`): each an RFC 5321 Mailbox as in MAIL FROM / RCPT TO. */
export function envelopeAddressesOf(field: string, value: string | string[] | undefined, errors: FieldError[]): string[] {
  const out: string[] = [];
  itemsOf(value).forEach((item, i) => {
    const where = Array.isArray(value) ? `${field}[${i}]` : field;
    const syntax = parseMailbox(item);
    if (!syntax.ok) return void errors.push({ field: where, message: `'${item}' is not an e-mail address: it ${syntax.reason}` });
    const policy = unroutable(syntax.mailbox);
    if (policy) return void errors.push({ field: where, message: `'${item}' is refused by policy: it ${policy}` });
    out.push(item);
  });
  return out;
}
