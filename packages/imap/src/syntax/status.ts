/**
 * STATUS arguments (RFC 3501 §6.3.10): a mailbox and a parenthesized list of items, those of
 * RFC 3501, RFC 7162 (HIGHESTMODSEQ), RFC 8438 (SIZE), RFC 9051 / RFC 9208 (DELETED,
 * DELETED-STORAGE), RFC 7889 (APPENDLIMIT) and RFC 8474 (MAILBOXID). LIST-STATUS (RFC 5819)
 * takes the same list. Pure: tokens in, the name as sent and the items out, or an ArgumentError (BAD).
 */
import type { Token } from "../parser.js";
import { ArgumentError, mailboxArg } from "./arguments.js";

const ITEMS = ["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "DELETED", "DELETED-STORAGE", "APPENDLIMIT", "MAILBOXID"];

export interface StatusRequest {
  mailbox: string;
  /** Upper case, in the order asked. */
  items: string[];
}

/** `rev2`: RFC 9051 §6.3.11 has no RECENT status item (Appendix E: \Recent is gone). */
export function parseStatus(args: readonly Token[], opts: { rev2: boolean }): StatusRequest {
  if (args.length !== 2) throw new ArgumentError("STATUS takes a mailbox and a list of items");
  const mailbox = mailboxArg(args[0]);
  return { mailbox, items: statusItems(args[1], opts.rev2) };
}

export function statusItems(t: Token | undefined, rev2 = false): string[] {
  if (!t || t.type !== "list" || t.items.length === 0) throw new ArgumentError("expected a list of status items");
  return t.items.map((i) => {
    const v = i.type === "atom" ? i.value.toUpperCase() : "";
    if (rev2 && v === "RECENT") throw new ArgumentError("IMAP4rev2 has no RECENT status item (RFC 9051 removed \\Recent)");
    if (!ITEMS.includes(v)) throw new ArgumentError(`unknown status item ${i.type === "atom" ? i.value : "(not an atom)"}`);
    return v;
  });
}
