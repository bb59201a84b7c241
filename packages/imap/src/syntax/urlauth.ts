/**
 * URLAUTH arguments (RFC 4467 §7): GENURLAUTH's url-rump and mechanism pairs, URLFETCH's
 * URLs (with RFC 5524's BODY / BINARY / BODYPARTSTRUCTURE), RESETKEY's mailbox and
 * mechanisms. Pure: tokens in, the request or an ArgumentError (BAD) out; whether a
 * mechanism is known and what a URL names are the commands' to decide.
 */
import type { Token } from "../parser.js";
import { ArgumentError, astring, mailboxArg } from "./arguments.js";

/** §7.1 `GENURLAUTH url-rump mechanism *(SP url-rump mechanism)`; mechanisms upper case. */
export function parseGenurlauth(args: readonly Token[]): { rump: string; mechanism: string }[] {
  if (args.length === 0 || args.length % 2 !== 0) throw new ArgumentError("GENURLAUTH takes pairs of a URL and a mechanism");
  const pairs: { rump: string; mechanism: string }[] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push({ rump: astring(args[i], "the URL"), mechanism: word(args[i + 1], "the mechanism") });
  return pairs;
}

export type UrlfetchItem = "BODY" | "BINARY" | "BODYPARTSTRUCTURE";
const FETCH_ITEMS = new Set(["BODY", "BINARY", "BODYPARTSTRUCTURE"]);

/** §7.2 `URLFETCH url *(SP url)`; RFC 5524 §3: `(url item…)` asks for items instead of the octets alone. */
export function parseUrlfetch(args: readonly Token[]): { url: string; items?: Set<UrlfetchItem> }[] {
  if (args.length === 0) throw new ArgumentError("URLFETCH takes one or more URLs");
  return args.map(fetchRequest);
}

function fetchRequest(t: Token): { url: string; items?: Set<UrlfetchItem> } {
  if (t.type !== "list") return { url: astring(t, "the URL") };
  const [first, ...rest] = t.items;
  const items = new Set<UrlfetchItem>();
  for (const item of rest) {
    const name = word(item, "a URLFETCH parameter");
    if (!FETCH_ITEMS.has(name)) throw new ArgumentError(`unknown URLFETCH parameter ${name}: BODY, BINARY or BODYPARTSTRUCTURE`);
    items.add(name as UrlfetchItem);
  }
  if (items.size === 0) throw new ArgumentError("a parenthesized URLFETCH URL needs BODY, BINARY or BODYPARTSTRUCTURE");
  return { url: astring(first, "the URL"), items };
}

/** §7.3 `RESETKEY [mailbox *(SP mechanism)]`: no mailbox means every key of the user. */
export function parseResetkey(args: readonly Token[]): { mailbox?: string; mechanisms: string[] } {
  if (args.length === 0) return { mechanisms: [] };
  const mailbox = mailboxArg(args[0]);
  return { mailbox, mechanisms: args.slice(1).map((m) => word(m, "the mechanism")) };
}

function word(t: Token | undefined, what: string): string {
  if (!t || t.type !== "atom" || t.section) throw new ArgumentError(`${what} must be an atom`);
  return t.value.toUpperCase();
}
