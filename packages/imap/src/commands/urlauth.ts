/**
 * RFC 4467 URLAUTH: GENURLAUTH (§7.1) authorizes URLs to the user's own messages with the
 * mailbox's access key; URLFETCH (§7.2) gives what authorized URLs name, also to other
 * users when the access identifier lets them; RESETKEY (§7.3) forgets keys, so every URL
 * made with them stops working.
 */
import { binaryConverted, bodyStructureValue, convertedStructure } from "../body-section.js";
import { atom, type ImapValue } from "../encoder.js";
import type { CommandHandler, CommandSession } from "../command.js";
import { parseImapUrl } from "../syntax/imap-url.js";
import { internalToken, URLAUTH_MECHANISMS } from "../urlauth.js";
import { mailboxName } from "./arguments.js";
import { parseGenurlauth, parseResetkey, parseUrlfetch } from "../syntax/urlauth.js";
import { partialRange, resolveAuthorizedUrl, resolveImapUrl, type Resolved } from "./url-resolve.js";

/** RFC 4467 §7.3: RESETKEY's OK names the mechanisms, as the URLMECH response code. */
const URLMECH = `URLMECH ${URLAUTH_MECHANISMS.join(" ")}`;

const badUrl = (url: string) => `BADURL ${url.replace(/[\]\r\n]/g, "")}`;

/** `GENURLAUTH url-rump mechanism *(SP url-rump mechanism)` → `* GENURLAUTH url…`. */
export const genurlauth: CommandHandler = async ({ session, args }) => {
  const pairs = parseGenurlauth(args);
  const user = session.user!;
  const authorized: string[] = [];
  for (const { rump, mechanism } of pairs) {
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

/**
 * `URLFETCH url *(SP url)` → `* URLFETCH url nstring …`, NIL for each URL that cannot be
 * fetched (RFC 4467 §7.2). RFC 5524: `(url BODY / BINARY / BODYPARTSTRUCTURE …)` asks for
 * the octets as stored, decoded (literal8 when they hold NULs), or the part's structure.
 */
export const urlfetch: CommandHandler = async ({ session, args }) => {
  const requests = parseUrlfetch(args);
  const out: ImapValue[] = [];
  for (const r of requests) {
    const resolved = await fetchOne(session, r.url);
    out.push(r.url);
    if (!r.items) out.push(resolved ? resolved.bytes : null);
    else if (!resolved) out.push(null);
    else {
      const data: ImapValue[] = [];
      // RFC 5524 §3: metadata first, then the content.
      if (r.items.has("BODYPARTSTRUCTURE")) {
        const part = resolved.part && r.items.has("BINARY") ? convertedStructure(resolved.raw, resolved.part) : resolved.part;
        data.push(atom("BODYPARTSTRUCTURE"), part ? bodyStructureValue(part, true) : null);
      }
      if (r.items.has("BODY")) data.push(atom("BODY"), resolved.bytes);
      if (r.items.has("BINARY")) data.push(atom("BINARY"), binaryOf(resolved));
      out.push(data);
    }
  }
  await session.send([atom("URLFETCH"), ...out]);
  return { status: "OK", text: "URLFETCH completed" };
};

/** RFC 5524 §3 BINARY: decoded content, NIL when an encoding is unknown. */
function binaryOf(r: Extract<Resolved, { bytes: Buffer }>): ImapValue {
  let bytes = r.bytes;
  if (r.part && r.region) {
    const converted = binaryConverted(r.raw, r.part, r.region[0], r.region[1]);
    if ("unknownCte" in converted) return null;
    bytes = r.url.partial ? partialRange(converted.bytes, r.url.partial) : converted.bytes;
  }
  return bytes.includes(0) ? { literal8: bytes } : bytes;
}

async function fetchOne(session: CommandSession, text: string): Promise<Extract<Resolved, { bytes: Buffer }> | undefined> {
  const resolved = await resolveAuthorizedUrl(session, text);
  return "badUrl" in resolved ? undefined : resolved;
}

/** `RESETKEY [mailbox *(SP mechanism)]`: one mailbox's key, or all of the user's (§7.3). */
export const resetkey: CommandHandler = async ({ session, args }) => {
  const request = parseResetkey(args);
  if (request.mailbox === undefined) {
    await session.storage.resetAccessKeys(session.user!);
    return { status: "OK", code: URLMECH, text: "all mailbox access keys reset" };
  }
  const box = mailboxName(session, request.mailbox);
  for (const mechanism of request.mechanisms) {
    if (!(URLAUTH_MECHANISMS as readonly string[]).includes(mechanism)) return { status: "NO", text: `unknown URLAUTH mechanism ${mechanism}` };
  }
  if (!(await session.storage.resetAccessKeys(session.user!, box))) return { status: "NO", code: "NONEXISTENT", text: `mailbox ${box} does not exist` };
  return { status: "OK", code: URLMECH, text: `access key of ${box} reset` };
};
