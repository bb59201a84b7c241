/**
 * IMAP URLs naming one message or part (RFC 5092 §3 imessagepart), as CATENATE (RFC 4469
 * §5) and URLAUTH (RFC 4467 §3) use them: absolute `imap://user@host/box;UIDVALIDITY=v/;UID=u
 * /;SECTION=s/;PARTIAL=o.l`, optionally with `;EXPIRE=…;URLAUTH=access[:mech:token]`, or
 * relative to the session's server (`/box/;UID=u…`). Pure: a string in, the parts or the
 * reason it is not one out. Keys are case-insensitive; names are %-encoded UTF-8.
 */

export interface ImapUrl {
  /** Absolute URLs only: the user and server they name. */
  user?: string;
  host?: string;
  mailbox: string;
  uidValidity?: number;
  uid: number;
  /** The section-spec text, e.g. `1.2`, `HEADER`, `HEADER.FIELDS (TO)`; absent for the whole message. */
  section?: string;
  partial?: [number, number | undefined];
  /** RFC 4467 §3: ;EXPIRE= date-time, ;URLAUTH= access identifier, and the mechanism and token when authorized. */
  expire?: Date;
  access?: string;
  mechanism?: string;
  token?: string;
  /** RFC 4467 §2.2 the "rump URL": everything before `:mechanism:token`. */
  rump: string;
}

const PATH =
  /^\/([^;]*?)(?:;uidvalidity=([1-9]\d*))?\/;uid=([1-9]\d*)(?:\/;section=([^/;]+))?(?:\/;partial=(\d+)(?:\.([1-9]\d*))?)?(?:;expire=([^;]+))?(?:;urlauth=((?:submit\+|user\+)[^:;]+|authuser|anonymous)(?::([A-Za-z0-9-]+):([0-9A-Fa-f]{32,}))?)?$/i;

/** A parsed URL, or why it is not one this server resolves (for `[BADURL]`). */
export function parseImapUrl(url: string): ImapUrl | { error: string } {
  let rest = url;
  let user: string | undefined;
  let host: string | undefined;
  const abs = /^imap:\/\/([^/]*)(\/.*)$/i.exec(url);
  if (abs) {
    const server = /^(?:([^@;]+)(?:;auth=[^@]+)?@)?([^:@]+)(?::\d+)?$/i.exec(abs[1]!);
    if (!server) return { error: "the URL's server part is not [user@]host[:port]" };
    if (server[1] !== undefined) {
      user = decode(server[1]);
      if (user === undefined) return { error: "the URL has an invalid %-escape" };
    }
    host = server[2]!.toLowerCase();
    rest = abs[2]!;
  } else if (!url.startsWith("/")) return { error: "not an IMAP URL: it starts with neither imap:// nor /" };
  const m = PATH.exec(rest);
  if (!m) return { error: "the URL does not name one message: /mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o.l]" };
  const mailbox = decode(m[1]!);
  const section = m[4] === undefined ? undefined : decode(m[4]);
  if (mailbox === undefined || (section === undefined && m[4] !== undefined)) {
    return { error: "the URL has an invalid %-escape" };
  }
  const out: ImapUrl = { mailbox, uid: Number(m[3]), rump: url };
  if (user !== undefined) out.user = user;
  if (host !== undefined) out.host = host;
  if (m[2]) out.uidValidity = Number(m[2]);
  if (section !== undefined) out.section = section;
  if (m[5] !== undefined) out.partial = [Number(m[5]), m[6] === undefined ? undefined : Number(m[6])];
  if (m[7] !== undefined) {
    const expire = new Date(decode(m[7]) ?? "");
    if (Number.isNaN(expire.getTime())) return { error: "the URL's EXPIRE is not an RFC 3339 date-time" };
    out.expire = expire;
  }
  if (m[8] !== undefined) {
    const access = decode(m[8]);
    if (access === undefined) return { error: "the URL has an invalid %-escape" };
    out.access = access;
    if (m[9] !== undefined) {
      out.mechanism = m[9].toUpperCase();
      out.token = m[10]!.toLowerCase();
      out.rump = url.slice(0, url.length - m[9].length - m[10]!.length - 2);
    }
  }
  return out;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The section-spec text of a URL as FETCH section tokens: `1.HEADER.FIELDS (A B)` → word and names. */
export function sectionWords(section: string): { word: string; fields?: string[] } | undefined {
  const m = /^([A-Za-z0-9.]+)(?: \(([^()]*)\))?$/.exec(section);
  if (!m) return undefined;
  return m[2] === undefined ? { word: m[1]! } : { word: m[1]!, fields: m[2].split(" ").filter(Boolean) };
}
