/** What a command makes of an argument by the session's state: mailbox names (RFC 3501 §5.1.3, RFC 6855 §3). */
import type { CommandSession } from "../command.js";
import { decodeMailboxName } from "../mutf7.js";

/**
 * A mailbox name as sent (syntax/arguments.ts mailboxArg): modified UTF-7 unless UTF8=ACCEPT
 * is enabled (RFC 6855 §3). An IMAP4rev2 session's names are UTF-8, normalized to NFC (RFC
 * 9051 §5.1: the server may normalize). INBOX in any case is INBOX.
 */
export function mailboxName(session: Pick<CommandSession, "utf8" | "rev2">, raw: string): string {
  const name = session.rev2 ? raw.normalize("NFC") : session.utf8 ? raw : decodeMailboxName(raw);
  return /^inbox$/i.test(name) ? "INBOX" : name;
}
