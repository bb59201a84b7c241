import { compactSet } from "../sequence.js";
import type { CommandHandler } from "../command.js";
import { isRefusal, type AppendMessage } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { parseAppend } from "../syntax/append.js";
import { resolveAuthorizedUrl, resolveImapUrl } from "./url-resolve.js";

/**
 * RFC 3501 §6.3.11 APPEND (LITERAL+ by the framer) and RFC 3502 MULTIAPPEND: one or more
 * `[flags] [date-time] literal` groups, stored all together or not at all; answers APPENDUID
 * with the UID set (RFC 4315 §3); UTF8 (…) of RFC 6855; APPENDLIMIT (RFC 7889); a message
 * as a literal8 `~{n}` (RFC 3516 §4.2 BINARY); `CATENATE (TEXT literal / URL "imap-url" …)`
 * (RFC 4469 §5), its URLs naming messages in the user's own mailboxes.
 */
export const append: CommandHandler = async ({ session, args }) => {
  const request = parseAppend(args);
  const box = mailboxName(session, request.mailbox);
  const groups = request.messages;
  const catenates = groups.some((g) => "catenate" in g.source);
  // RFC 4469 §5: a CATENATE into a mailbox that does not exist is refused with TRYCREATE
  // before any URL is looked at (Dovecot answers the same, whatever the URLs).
  if (catenates) {
    const status = await session.storage.status(session.user!, box);
    if (isRefusal(status)) return { status: "NO", ...(status.refused === "nonexistent" ? { code: "TRYCREATE" } : {}), text: status.text };
  }
  const messages: AppendMessage[] = [];
  for (const g of groups) {
    if ("literal" in g.source) {
      const lit = g.source.literal;
      messages.push({ raw: lit.bytes, flags: g.flags, internalDate: g.internalDate, ...(lit.binary ? { binary: true } : {}) });
      continue;
    }
    const pieces: Buffer[] = [];
    for (const part of g.source.catenate) {
      if ("text" in part) {
        pieces.push(part.text);
        continue;
      }
      // RFC 4469 §5: a URLAUTH-authorized URL may name another user's message (RFC 4467).
      const resolved = /;urlauth=[^;]*:[^:;]+:[0-9a-f]+$/i.test(part.url) ? await resolveAuthorizedUrl(session, part.url) : await resolveImapUrl(session, part.url);
      // RFC 4469 §6: BADURL names the URL that could not be resolved; nothing is stored.
      if ("badUrl" in resolved) return { status: "NO", code: `BADURL ${part.url.replace(/[\]\r\n]/g, "")}`, text: resolved.badUrl };
      pieces.push(resolved.bytes);
    }
    // A TEXT part sent as a literal8 (RFC 3516 §4.2) makes the joined message binary too.
    const binary = g.source.catenate.some((p) => "text" in p && p.binary);
    messages.push({ raw: Buffer.concat(pieces), flags: g.flags, internalDate: g.internalDate, ...(binary ? { binary: true } : {}) });
  }
  // RFC 3502 §6.3.11: a zero-length literal cancels the whole command; nothing is stored.
  if (messages.some((m) => m.raw.length === 0)) return { status: "NO", text: messages.length > 1 ? "a message is empty: none was appended" : "the message is empty" };
  // RFC 7889 §4 / RFC 4469 §5: a message over APPENDLIMIT is refused (a larger literal never
  // gets here: the listener's framer refuses it with NO [TOOBIG]); the command stores nothing.
  const limit = session.opts.appendLimit;
  if (limit !== undefined && messages.some((m) => m.raw.length > limit)) return { status: "NO", code: "TOOBIG", text: `a message is larger than the APPENDLIMIT of ${limit} octets` };
  const result = await session.storage.append(session.user!, box, messages);
  // The appending session sees its own messages (EXISTS) before the tagged OK, without
  // waiting for the change notification (RFC 3501 §6.3.11).
  if (session.selected?.name === box) session.selected.dirty = true;
  if (isRefusal(result)) {
    if (result.refused === "nonexistent") return { status: "NO", code: "TRYCREATE", text: result.text };
    if (result.refused === "over-quota") return { status: "NO", code: "OVERQUOTA", text: result.text };
    return { status: "NO", text: result.text };
  }
  return { status: "OK", code: `APPENDUID ${result.uidValidity} ${compactSet(result.uids)}`, text: "APPEND completed" };
};
