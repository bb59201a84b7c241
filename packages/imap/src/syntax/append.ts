/**
 * APPEND arguments (RFC 3501 §6.3.11, RFC 3502 MULTIAPPEND): a mailbox, then one or more
 * `[flags] [date-time] message` groups; a message is a literal (a literal8 `~{n}`, RFC 3516
 * §4.2), `UTF8 (literal8)` (RFC 6855 §4) or `CATENATE (TEXT literal / URL url …)` (RFC 4469
 * §5). Pure: tokens in, an AppendRequest or an ArgumentError (BAD) out; the mailbox as
 * sent and the CATENATE URLs unresolved.
 */
import type { Token } from "../parser.js";
import { ArgumentError, dateTime, flagList, mailboxArg } from "./arguments.js";

/** One part of a CATENATE: octets sent as a literal, or an IMAP URL to fetch them from. */
export type CatPart = { text: Buffer; binary: boolean } | { url: string };
export type AppendSource = { literal: Token & { type: "string" } } | { catenate: CatPart[] };

export interface AppendGroup {
  flags: string[];
  internalDate: Date | undefined;
  source: AppendSource;
}

export interface AppendRequest {
  mailbox: string;
  messages: AppendGroup[];
}

export function parseAppend(args: readonly Token[]): AppendRequest {
  if (args.length < 2) throw new ArgumentError("APPEND takes a mailbox, optional flags and date, and a message literal");
  const mailbox = mailboxArg(args[0]);
  const messages: AppendGroup[] = [];
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
      messages.push({ flags, internalDate: date, source: { catenate: catenateParts(args[i + 1]) } });
      i += 2;
      continue;
    }
    if (word === "UTF8" && args[i + 1]?.type === "list") {
      message = (args[i + 1] as { items: Token[] }).items[0];
      i++;
    }
    if (!message || message.type !== "string") throw new ArgumentError("APPEND needs each message as a literal, after its optional flags and date");
    i++;
    messages.push({ flags, internalDate: date, source: { literal: message } });
  }
  return { mailbox, messages };
}

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
