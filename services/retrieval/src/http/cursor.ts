/**
 * Page cursors of the message list (newest first). Opaque to clients: base64url of
 * `<uidValidity>.<beforeUid>`, so a cursor from before the folder's UIDVALIDITY
 * changed (RFC 3501 §2.3.1.1: its UIDs mean other messages) is refused, not misread.
 */

export interface PageCursor {
  uidValidity: number;
  beforeUid: number;
}

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(`${c.uidValidity}.${c.beforeUid}`, "utf8").toString("base64url");
}

export function decodeCursor(s: string): PageCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) return undefined;
  const m = /^([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})$/.exec(Buffer.from(s, "base64url").toString("utf8"));
  if (!m) return undefined;
  const uidValidity = Number(m[1]);
  const beforeUid = Number(m[2]);
  // RFC 3501 §2.3.1.1: both are non-zero 32-bit unsigned numbers.
  if (uidValidity > 0xffffffff || beforeUid > 0xffffffff) return undefined;
  return { uidValidity, beforeUid };
}
