import type { Token } from "../parser.js";
import { compactSet } from "../sequence.js";
import type { CommandHandler } from "../command.js";
import { isRefusal, type AppendMessage } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { ArgumentError, dateTime, flagList, mailboxArg } from "../syntax/arguments.js";
import { resolveAuthorizedUrl, resolveImapUrl } from "./url-resolve.js";

/** One message of an APPEND: a literal, or RFC 4469 CATENATE's parts to join. */
type CatPart = { text: Buffer; binary: boolean } | { url: string };
type Source = { literal: Token & { type: "string" } } | { catenate: CatPart[] };

/**
 * RFC 3501 §6.3.11 APPEND (LITERAL+ by the framer) and RFC 3502 MULTIAPPEND: one or more
 * `[flags] [date-time] literal` groups, stored all together or not at all; answers APPENDUID
 * with the UID set (RFC 4315 §3); UTF8 (…) of RFC 6855; APPENDLIMIT (RFC 7889); a message
 * as a literal8 `~{n}` (RFC 3516 §4.2 BINARY); `CATENATE (TEXT literal / URL "imap-url" …)`
 * (RFC 4469 §5), its URLs naming messages in the user's own mailboxes.
 */
export const append: CommandHandler = async ({ session, args }) => {
  if (args.length < 2) return { status: "BAD", text: "APPEND takes a mailbox, optional flags and date, and a message literal" };
  const box = mailboxName(session, mailboxArg(args[0]));
  const groups: { flags: string[]; internalDate: Date | undefined; source: Source }[] = [];
  let i = 1;
  while (i < args.length) {
    let flags: string[] = [];
    let date: Date | undefined;
    if (args[i]?.type === "list") flags = flagList(args[i++]);
    const maybeDate = args[i];
    if (maybeDate?.type === "string" && !maybeDate.literal) {
      date = dateTime(maybeDate.value);
      if (!date) throw new ArgumentError(`invalid date-time ${maybeDate.value}`);
      i++;
    }
    let message: Token | undefined = args[i];
    const word = message?.type === "atom" && !message.section ? message.value.toUpperCase() : "";
    if (word === "CATENATE") {
      groups.push({ flags, internalDate: date, source: { catenate: catenateParts(args[i + 1]) } });
      i += 2;
      continue;
    }
    if (word === "UTF8" && args[i + 1]?.type === "list") {
      message = (args[i + 1] as { items: Token[] }).items[0];
      i++;
    }
    if (!message || message.type !== "string") return { status: "BAD", text: "APPEND needs each message as a literal, after its optional flags and date" };
    i++;
    groups.push({ flags, internalDate: date, source: { literal: message } });
  }
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

/** RFC 4469 §5: "(" cat-part *(SP cat-part) ")", cat-part = "TEXT" SP literal / "URL" SP astring. */
function catenateParts(t: Token | undefined): CatPart[] {
  if (!t || t.type !== "list" || t.items.length === 0) throw new ArgumentError("CATENATE takes a list of TEXT literal and URL parts");
  const parts: CatPart[] = [];
  for (let k = 0; k < t.items.length; k += 2) {
    const kind = t.items[k]!;
    const value = t.items[k + 1];
    const name = kind.type === "atom" && !kind.section ? kind.value.toUpperCase() : "";
    if (name === "TEXT" && value?.type === "string" && value.literal) parts.push({ text: value.bytes, binary: value.binary === true });
    else if (name === "URL" && value && (value.type === "string" || (value.type === "atom" && !value.section))) parts.push({ url: value.value });
    else if (name === "TEXT") throw new ArgumentError("a CATENATE TEXT part must be a literal");
    else if (name === "URL") throw new ArgumentError("a CATENATE URL part must be a string");
    else throw new ArgumentError(`CATENATE parts are TEXT or URL, not ${name || "that"}`);
  }
  return parts;
}
