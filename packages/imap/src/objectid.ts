/**
 * RFC 8474 OBJECTID: objectid = 1*255(ALPHA / DIGIT / "_" / "-") (§7).
 *
 * - MAILBOXID (§4): "F" and the mailbox's row id, which RENAME keeps and a mailbox
 *   deleted and created again never gets back.
 * - EMAILID (§5.1): "M" and the message's blob id, the SHA-256 of its content: copies
 *   and moves keep it (§5.1 requires that), and the same content delivered twice shares it
 *   (§5.1 allows that).
 * - THREADID (§5.2): NIL, which §5.2 allows for a server that does not thread.
 */
const OBJECTID = /^[A-Za-z0-9_-]{1,255}$/;

export function mailboxObjectId(mailboxId: number): string {
  return `F${mailboxId}`;
}

export function emailObjectId(blobId: string): string {
  return `M${blobId}`;
}

/** The blob id an EMAILID names, or undefined when it is not one of ours (SEARCH EMAILID then matches nothing). */
export function blobIdOfEmailId(objectId: string): string | undefined {
  return /^M[0-9a-f]{64}$/.test(objectId) ? objectId.slice(1) : undefined;
}

export function isObjectId(value: string): boolean {
  return OBJECTID.test(value);
}
