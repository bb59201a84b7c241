/**
 * The octets an IMAP URL names in the user's own mailboxes (RFC 5092 §3, RFC 4469 §5
 * CATENATE's URL parts, RFC 4467 URLFETCH): the message, or its section, or a partial
 * range of either, as FETCH BODY.PEEK[section]<partial> would give them.
 */
import { sectionBytes, sectionPart as sectionPartOf } from "../body-section.js";
import type { Token } from "../parser.js";
import type { CommandSession } from "../command.js";
import { isRefusal, type BodyPart, type ImapUser } from "../storage.js";
import { parseImapUrl, sectionWords, type ImapUrl } from "../syntax/imap-url.js";
import { tokenMatches, urlauthVerdict } from "../urlauth.js";
import { ArgumentError } from "../syntax/arguments.js";
import { parseSection } from "../syntax/fetch.js";

/**
 * `mailbox`: the name as stored (INBOX in upper case). `part` and `region`: when the URL
 * names a whole message or part (no HEADER/TEXT/MIME), that part and its octets in `raw`
 * before any partial range.
 */
export type Resolved =
  | { bytes: Buffer; url: ImapUrl; mailbox: string; raw: Buffer; part: BodyPart | undefined; region: [number, number] | undefined }
  | { badUrl: string };

/**
 * Resolves `url` for `owner` (the session's user unless URLFETCH resolves a URLAUTH URL
 * for its owner). A relative URL is the owner's; an absolute one must name the owner and
 * this server.
 */
export async function resolveImapUrl(session: CommandSession, text: string, owner: ImapUser | undefined = session.user): Promise<Resolved> {
  const url = parseImapUrl(text);
  if ("error" in url) return { badUrl: url.error };
  if (!owner) return { badUrl: "the URL names no user" };
  if (url.user !== undefined && !sameUser(url.user, url.host, owner)) return { badUrl: `the URL is for ${url.user}, not for ${owner.address}` };
  if (url.host !== undefined && !sameServer(session, url.host, owner)) return { badUrl: `the URL names another server, ${url.host}` };
  const name = /^inbox$/i.test(url.mailbox) ? "INBOX" : url.mailbox;
  const box = await session.storage.select(owner, name, { claimRecent: false });
  if (isRefusal(box)) return { badUrl: `no mailbox ${url.mailbox}` };
  if (url.uidValidity !== undefined && url.uidValidity !== box.uidValidity) return { badUrl: `the UIDVALIDITY of ${url.mailbox} is ${box.uidValidity}, not ${url.uidValidity}` };
  const [message] = box.uids.includes(url.uid) ? await session.storage.fetch(box.mailboxId, [url.uid], { raw: true }) : [];
  if (!message?.raw) return { badUrl: `no message with UID ${url.uid} in ${url.mailbox}` };
  let bytes: Buffer | undefined = message.raw;
  let part: BodyPart | undefined = message.bodyStructure;
  let region: [number, number] | undefined = [0, message.raw.length];
  if (url.section !== undefined) {
    const words = sectionWords(url.section);
    let spec;
    try {
      spec = words && parseSection(sectionTokens(words));
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
    }
    if (!spec) return { badUrl: `invalid section ${url.section}` };
    bytes = sectionBytes(message.raw, message.bodyStructure, spec);
    if (!bytes) return { badUrl: `message UID ${url.uid} has no section ${url.section}` };
    part = spec.text === "" ? sectionPartOf(message.bodyStructure, spec.path) : undefined;
    region = part && spec.path.length ? [part.bodyStart, part.end] : part ? region : undefined;
  }
  if (url.partial) bytes = partialRange(bytes, url.partial);
  return { bytes, url, mailbox: name, raw: message.raw, part, region };
}

/**
 * A URLAUTH-authorized URL (RFC 4467 §3) for whoever its access identifier admits, the
 * session's user included: the owner's message once the token matches the owner's
 * mailbox key. Every refusal has its reason (URLFETCH shows none of them: NIL).
 */
export async function resolveAuthorizedUrl(session: CommandSession, text: string): Promise<Resolved> {
  const url = parseImapUrl(text);
  if ("error" in url) return { badUrl: url.error };
  const requester = session.user!;
  const verdict = urlauthVerdict(url, requester.address, new Date());
  if (!verdict.allow) return { badUrl: verdict.why };
  const owner = verdict.owner.toLowerCase() === requester.address.toLowerCase() ? requester : await session.storage.findUser(verdict.owner);
  if (!owner) return { badUrl: `no user ${verdict.owner}` };
  const key = await session.storage.mailboxAccessKey(owner, /^inbox$/i.test(url.mailbox) ? "INBOX" : url.mailbox, false);
  if (!key || !tokenMatches(key, url)) return { badUrl: "the URL's authorization does not match (revoked by RESETKEY, or altered)" };
  return resolveImapUrl(session, text, owner);
}

/** RFC 5092 §3 ;PARTIAL=origin[.length]: past the end is empty. */
export function partialRange(bytes: Buffer, [origin, length]: [number, number | undefined]): Buffer {
  return bytes.subarray(Math.min(origin, bytes.length), length === undefined ? undefined : origin + length);
}

function sectionTokens(words: { word: string; fields?: string[] }): Token[] {
  const first: Token = { type: "atom", value: words.word };
  return words.fields ? [first, { type: "list", items: words.fields.map((f) => ({ type: "atom", value: f }) as Token) }] : [first];
}

/** `imap://fred%40example.com@host/` or, as imaptest and many clients write it, `imap://fred@example.com/`. */
function sameUser(user: string, host: string | undefined, owner: ImapUser): boolean {
  const address = owner.address.toLowerCase();
  return user.toLowerCase() === address || (!user.includes("@") && `${user}@${host ?? ""}`.toLowerCase() === address);
}

/** The server part of an absolute URL names this server: its hostname, or the owner's mail domain. */
function sameServer(session: CommandSession, host: string, owner: ImapUser): boolean {
  const domain = owner.address.slice(owner.address.lastIndexOf("@") + 1).toLowerCase();
  return host === session.opts.hostname.toLowerCase() || host === domain || host === "localhost" || host === "127.0.0.1";
}

