/**
 * RFC 4467 URLAUTH: GENURLAUTH (§7.1) authorizes URLs to the user's own messages with the
 * mailbox's access key; URLFETCH (§7.2) gives what authorized URLs name, also to other
 * users when the access identifier lets them; RESETKEY (§7.3) forgets keys, so every URL
 * made with them stops working.
 */
import { atom } from "../encoder.js";
import type { Token } from "../parser.js";
import type { CommandHandler } from "../session.js";
import { parseImapUrl } from "../syntax/imap-url.js";
import { internalToken, tokenMatches, URLAUTH_MECHANISMS, urlauthVerdict } from "../urlauth.js";
import { astring, ArgumentError, mailboxName } from "./arguments.js";
import { resolveImapUrl } from "./url-resolve.js";

const badUrl = (url: string) => `BADURL ${url.replace(/[\]\r\n]/g, "")}`;

/** `GENURLAUTH url-rump mechanism *(SP url-rump mechanism)` → `* GENURLAUTH url…`. */
export const genurlauth: CommandHandler = async ({ session, args }) => {
  if (args.length === 0 || args.length % 2 !== 0) return { status: "BAD", text: "GENURLAUTH takes pairs of a URL and a mechanism" };
  const user = session.user!;
  const authorized: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const rump = astring(args[i], "the URL");
    const mechanism = word(args[i + 1], "the mechanism");
    if (!(URLAUTH_MECHANISMS as readonly string[]).includes(mechanism)) return { status: "NO", text: `unknown URLAUTH mechanism ${mechanism}; this server has ${URLAUTH_MECHANISMS.join(" ")}` };
    const url = parseImapUrl(rump);
    if ("error" in url) return { status: "NO", code: badUrl(rump), text: url.error };
    // §7.1: the URL must be an absolute URLAUTH-ready rump for the user's own message.
    if (url.user === undefined || url.access === undefined || url.token !== undefined) {
      return { status: "NO", code: badUrl(rump), text: "GENURLAUTH takes an imap://user@host/… URL ending ;URLAUTH=access, without a token" };
    }
    const resolved = await resolveImapUrl(session, rump);
    if ("badUrl" in resolved) return { status: "NO", code: badUrl(rump), text: resolved.badUrl };
    const key = await session.storage.mailboxAccessKey(user, resolved.mailbox, true);
    if (!key) return { status: "NO", code: badUrl(rump), text: `no mailbox ${url.mailbox}` };
    authorized.push(`${rump}:${mechanism}:${internalToken(key, rump)}`);
  }
  await session.send([atom("GENURLAUTH"), ...authorized]);
  return { status: "OK", text: "GENURLAUTH completed" };
};

/** `URLFETCH url *(SP url)` → `* URLFETCH url nstring …`; NIL for each URL that cannot be fetched (§7.2). */
export const urlfetch: CommandHandler = async ({ session, args }) => {
  if (args.length === 0) return { status: "BAD", text: "URLFETCH takes one or more URLs" };
  const out: (string | Buffer | null)[] = [];
  for (const arg of args) {
    const text = astring(arg, "the URL");
    out.push(text, await fetchOne(session, text));
  }
  await session.send([atom("URLFETCH"), ...out]);
  return { status: "OK", text: "URLFETCH completed" };
};

async function fetchOne(session: Parameters<CommandHandler>[0]["session"], text: string): Promise<Buffer | null> {
  const url = parseImapUrl(text);
  if ("error" in url) return null;
  const verdict = urlauthVerdict(url, session.user!.address, new Date());
  if (!verdict.allow) return null;
  const owner = verdict.owner.toLowerCase() === session.user!.address.toLowerCase() ? session.user! : await session.storage.findUser(verdict.owner);
  if (!owner) return null;
  const key = await session.storage.mailboxAccessKey(owner, /^inbox$/i.test(url.mailbox) ? "INBOX" : url.mailbox, false);
  if (!key || !tokenMatches(key, url)) return null;
  const resolved = await resolveImapUrl(session, text, owner);
  return "badUrl" in resolved ? null : resolved.bytes;
}

/** `RESETKEY [mailbox *(SP mechanism)]`: one mailbox's key, or all of the user's (§7.3). */
export const resetkey: CommandHandler = async ({ session, args }) => {
  if (args.length === 0) {
    await session.storage.resetAccessKeys(session.user!);
    return { status: "OK", text: "all mailbox access keys reset" };
  }
  const box = mailboxName(session, args[0]);
  for (const m of args.slice(1)) {
    const mechanism = word(m, "the mechanism");
    if (!(URLAUTH_MECHANISMS as readonly string[]).includes(mechanism)) return { status: "NO", text: `unknown URLAUTH mechanism ${mechanism}` };
  }
  if (!(await session.storage.resetAccessKeys(session.user!, box))) return { status: "NO", code: "NONEXISTENT", text: `mailbox ${box} does not exist` };
  return { status: "OK", text: `access key of ${box} reset` };
};

function word(t: Token | undefined, what: string): string {
  if (!t || t.type !== "atom" || t.section) throw new ArgumentError(`${what} must be an atom`);
  return t.value.toUpperCase();
}
