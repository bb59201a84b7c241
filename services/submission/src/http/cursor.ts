/**
 * The position after the last message of a page, newest first: its creation time in
 * microseconds since the epoch (PostgreSQL's precision, which a JS Date would round)
 * and its id, as opaque base64url text.
 */
export interface Cursor {
  createdAtMicros: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAtMicros}|${c.id}`, "utf8").toString("base64url");
}

export function decodeCursor(text: string): Cursor | undefined {
  const m = /^(\d{1,20})\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(Buffer.from(text, "base64url").toString("utf8"));
  return m ? { createdAtMicros: m[1]!, id: m[2]! } : undefined;
}

/**
 * The position after the last entry of a suppression-list page, newest first: its time in
 * microseconds and its address (an address holds no line break; the first '|' ends the time).
 */
export interface AddressCursor {
  createdAtMicros: string;
  address: string;
}

export function encodeAddressCursor(c: AddressCursor): string {
  return Buffer.from(`${c.createdAtMicros}|${c.address}`, "utf8").toString("base64url");
}

export function decodeAddressCursor(text: string): AddressCursor | undefined {
  const m = /^(\d{1,20})\|([^\r\n]{3,320})$/.exec(Buffer.from(text, "base64url").toString("utf8"));
  return m ? { createdAtMicros: m[1]!, address: m[2]! } : undefined;
}
