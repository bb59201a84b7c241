import addressparser from "nodemailer/lib/addressparser";
import { parseAddress } from "@correo/directory";

export type FieldError = { field: string; message: string };

/** Envelope addresses of one request field ('Name <a@b>' or 'a@b', one or a list), or errors naming it. */
export function addressesOf(field: string, value: string | string[] | undefined, errors: FieldError[]): string[] {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const out: string[] = [];
  items.forEach((item, i) => {
    const parsed = addressparser(item, { flatten: true });
    const where = Array.isArray(value) ? `${field}[${i}]` : field;
    if (parsed.length !== 1 || !parsed[0]!.address || !parseAddress(parsed[0]!.address)) {
      errors.push({ field: where, message: `'${item}' is not one e-mail address` });
      return;
    }
    out.push(parsed[0]!.address);
  });
  return out;
}
