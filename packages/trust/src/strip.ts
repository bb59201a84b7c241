/**
 * RFC 8601 §5: a border MTA MUST remove (or rename) Authentication-Results fields that
 * claim its own authserv-id before it adds its own, or a sender could write the verdict
 * it wants. Fields of other authserv-ids stay: they are other hosts' claims, which
 * downstream readers ignore unless they trust them. ARC-Authentication-Results are part
 * of ARC sets (RFC 8617 §4.1) and are never touched.
 */
export function stripForgedResults(raw: Buffer, authservId: string): { raw: Buffer; removed: number } {
  const text = raw.toString("latin1");
  const end = headerEnd(text);
  const header = text.slice(0, end);
  const fields = splitFields(header);
  const own = authservId.toLowerCase();
  const kept = fields.filter((f) => !(fieldName(f) === "authentication-results" && claimedAuthservId(f) === own));
  const removed = fields.length - kept.length;
  if (removed === 0) return { raw, removed };
  return { raw: Buffer.concat([Buffer.from(kept.join(""), "latin1"), raw.subarray(end)]), removed };
}

/** Offset of the blank line (or of the end when there is none): the header section is what precedes it. */
function headerEnd(text: string): number {
  if (text.startsWith("\r\n")) return 0;
  const i = text.indexOf("\r\n\r\n");
  return i < 0 ? text.length : i + 2;
}

/** Each field with its folded continuation lines and its CRLF (RFC 5322 §2.2.3). */
function splitFields(header: string): string[] {
  const lines = header.split(/(?<=\r\n)/);
  const fields: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && fields.length > 0) fields[fields.length - 1] += line;
    else fields.push(line);
  }
  return fields;
}

function fieldName(field: string): string {
  const colon = field.indexOf(":");
  return colon < 0 ? "" : field.slice(0, colon).trim().toLowerCase();
}

/** RFC 8601 §2.2: authres-header-field = "Authentication-Results:" authserv-id [ CFWS authres-version ] ... */
export function claimedAuthservId(field: string): string {
  let value = field.slice(field.indexOf(":") + 1).replace(/\r\n[ \t]/g, " ");
  // Leading CFWS: spaces and (possibly nested) comments.
  for (;;) {
    value = value.replace(/^\s+/, "");
    if (!value.startsWith("(")) break;
    let depth = 0;
    let i = 0;
    for (; i < value.length; i++) {
      if (value[i] === "\\") i++;
      else if (value[i] === "(") depth++;
      else if (value[i] === ")" && --depth === 0) break;
    }
    value = value.slice(i + 1);
  }
  // authserv-id is a value (RFC 2045 token or quoted-string).
  if (value.startsWith('"')) {
    const close = value.indexOf('"', 1);
    return value.slice(1, close < 0 ? undefined : close).toLowerCase();
  }
  return (/^[^\s;()]+/.exec(value)?.[0] ?? "").toLowerCase();
}
