import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The Sender Rewriting Scheme as libsrs2 and postsrsd write it (Shevek, "Sender Rewriting
 * Scheme", 2004; the scheme the SPF project's SRS page and postsrsd follow):
 *
 *   SRS0=HHHH=TT=orig-domain=orig-local@srs-domain
 *   SRS1=HHHH=first-forwarder==HHHH=TT=orig-domain=orig-local@srs-domain
 *
 * HHHH is the base64 of HMAC-SHA1 (keyed by a secret) over the lowercased fields, cut to
 * four characters and compared case-insensitively (a relay may fold the local part's
 * case); TT is the day number mod 1024 in base32, two characters. An address that is
 * already SRS0 (or SRS1) of another forwarder becomes SRS1: it keeps the first
 * forwarder's host and SRS0 tail and adds our own hash, so that a bounce returns through
 * that forwarder, which checks its own hash and timestamp. Pure: time is passed in.
 */

export interface SrsOptions {
  /** The first signs; all verify (rotation: put the new secret first, keep the old ones for SRS_MAX_AGE). */
  secrets: readonly string[];
  /** The hosted domain whose MX we are, on the right of every rewritten address. */
  domain: string;
  /** Days a rewritten address stays valid (libsrs2 and postsrsd: 21). */
  maxAgeDays?: number;
}

export type SrsRefusalReason = "not-srs" | "malformed" | "forged" | "expired";

export interface SrsRefusal {
  ok: false;
  reason: SrsRefusalReason;
  /** What is wrong, written to follow the address: `<address> ${detail}` (SMTP reply, log). */
  detail: string;
}

export type SrsResult = { ok: true; address: string } | SrsRefusal;

export const DEFAULT_MAX_AGE_DAYS = 21;
const HASH_LENGTH = 4;
/** libsrs2 SRSSEP: the separator after the SRS0/SRS1 tag may be any of these; fields are split at "=". */
const TAG_SEPARATORS = "=+-";
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const DAY_MS = 86_400_000;
/** Two base32 characters: the day number wraps at 1024. */
const TIMESTAMP_WRAP = 1024;

function refuse(reason: SrsRefusalReason, detail: string): SrsRefusal {
  return { ok: false, reason, detail };
}

function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return undefined;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** Which SRS tag a local part carries ("SRS0=", "srs1+", …), if any. */
function tagOf(local: string): "SRS0" | "SRS1" | undefined {
  const tag = local.slice(0, 4).toUpperCase();
  if ((tag !== "SRS0" && tag !== "SRS1") || local.length < 5 || !TAG_SEPARATORS.includes(local[4]!)) return undefined;
  return tag;
}

/** Whether an address's local part is an SRS0 or SRS1 one (whoever wrote it). */
export function isSrsAddress(address: string): boolean {
  const parts = splitAddress(address);
  return parts !== undefined && tagOf(parts.local) !== undefined;
}

/** libsrs2 srs_hash_create: HMAC-SHA1 over the fields, each lowercased, base64, first four characters. */
function hash(secret: string, fields: readonly string[]): string {
  const mac = createHmac("sha1", secret);
  for (const f of fields) mac.update(f.toLowerCase());
  return mac.digest("base64").slice(0, HASH_LENGTH);
}

function hashMatches(options: SrsOptions, given: string, fields: readonly string[]): boolean {
  if (given.length !== HASH_LENGTH) return false;
  const a = Buffer.from(given.toLowerCase());
  // Every secret is tried, so the answer takes as long whichever one matches.
  let ok = false;
  for (const secret of options.secrets) {
    const b = Buffer.from(hash(secret, fields).toLowerCase());
    if (a.length === b.length && timingSafeEqual(a, b)) ok = true;
  }
  return ok;
}

/** Day number mod 1024, two base32 characters (libsrs2 srs_timestamp_create). */
export function timestampOf(now: Date): string {
  const day = Math.floor(now.getTime() / DAY_MS) % TIMESTAMP_WRAP;
  return BASE32[(day >> 5) & 31]! + BASE32[day & 31]!;
}

/** How many days old a timestamp is (mod 1024), or undefined when it is not two base32 characters. */
function ageInDays(stamp: string, now: Date): number | undefined {
  if (stamp.length !== 2) return undefined;
  const hi = BASE32.indexOf(stamp[0]!.toUpperCase());
  const lo = BASE32.indexOf(stamp[1]!.toUpperCase());
  if (hi < 0 || lo < 0) return undefined;
  const then = (hi << 5) | lo;
  const today = Math.floor(now.getTime() / DAY_MS) % TIMESTAMP_WRAP;
  return (today - then + TIMESTAMP_WRAP) % TIMESTAMP_WRAP;
}

function checkOptions(options: SrsOptions): void {
  if (options.secrets.length === 0 || options.secrets.some((s) => s === "")) throw new Error("SRS needs at least one non-empty secret");
  if (options.domain === "") throw new Error("SRS needs a domain");
}

/**
 * The envelope sender a forwarded message goes out with. An address of the SRS domain
 * itself is left as it is (libsrs2 without alwaysrewrite); the null path `<>` must never
 * be given (bounces keep `<>`): that is the caller's decision, refused here as malformed.
 */
export function srsForward(sender: string, options: SrsOptions, now: Date): SrsResult {
  checkOptions(options);
  const parts = splitAddress(sender);
  if (!parts) return refuse("malformed", "is not local@domain; only a mailbox can be rewritten");
  const { local, domain } = parts;
  if (domain.toLowerCase() === options.domain.toLowerCase()) return { ok: true, address: sender };
  const secret = options.secrets[0]!;
  const tag = tagOf(local);
  if (tag === "SRS0") {
    // SRS1=HHHH=first-forwarder==HHHH=TT=domain=local: the SRS0 tail after its tag, kept with its separator.
    const tail = local.slice(4);
    return { ok: true, address: `SRS1=${hash(secret, [domain, tail])}=${domain}=${tail}@${options.domain}` };
  }
  if (tag === "SRS1") {
    // Another forwarder's SRS1: keep the first forwarder and its tail, sign them ourselves.
    const fields = local.slice(5).split("=");
    const host = fields[1];
    const tail = fields.slice(2).join("=");
    if (fields.length < 3 || !host || tail === "") return refuse("malformed", "is SRS1 but lacks the hash, host or SRS0 tail");
    return { ok: true, address: `SRS1=${hash(secret, [host, tail])}=${host}=${tail}@${options.domain}` };
  }
  const stamp = timestampOf(now);
  return { ok: true, address: `SRS0=${hash(secret, [stamp, domain, local])}=${stamp}=${domain}=${local}@${options.domain}` };
}

/**
 * Where a bounce to an SRS address of ours goes: SRS0 back to the original sender (hash
 * and age checked), SRS1 to the first forwarder's SRS0 address (hash checked; the age is
 * that forwarder's to check). Refusals say why: not an SRS address of this domain,
 * malformed, a hash none of the secrets made (forged), or older than the maximum age.
 */
export function srsReverse(address: string, options: SrsOptions, now: Date): SrsResult {
  checkOptions(options);
  const parts = splitAddress(address);
  if (!parts) return refuse("malformed", "is not local@domain");
  if (parts.domain.toLowerCase() !== options.domain.toLowerCase()) return refuse("not-srs", `is not of the SRS domain ${options.domain}`);
  const tag = tagOf(parts.local);
  if (!tag) return refuse("not-srs", "does not start with SRS0= or SRS1=");
  const fields = parts.local.slice(5).split("=");
  if (tag === "SRS1") {
    const [given, host] = fields;
    const tail = fields.slice(2).join("=");
    if (fields.length < 3 || !given || !host || tail === "") return refuse("malformed", "is SRS1 but lacks its hash, host or SRS0 tail");
    if (!hashMatches(options, given, [host, tail])) return refuse("forged", "carries an SRS1 hash that none of our secrets made");
    return { ok: true, address: `SRS0${tail}@${host}` };
  }
  const [given, stamp, domain] = fields;
  const local = fields.slice(3).join("=");
  if (fields.length < 4 || !given || !stamp || !domain || local === "") {
    return refuse("malformed", "is SRS0 but lacks its hash, timestamp, domain or local part");
  }
  const age = ageInDays(stamp, now);
  if (age === undefined) return refuse("malformed", `has the timestamp "${stamp}", not two base32 characters`);
  if (!hashMatches(options, given, [stamp, domain, local])) return refuse("forged", "carries a hash that none of our secrets made");
  const maxAge = options.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
  if (age > maxAge) return refuse("expired", `is ${age} days old; the limit is ${maxAge}`);
  return { ok: true, address: `${local}@${domain}` };
}

/** SRS_SECRETS, SRS_DOMAIN and SRS_MAX_AGE (ms) as options; undefined (SRS off) unless both secrets and domain are set. */
export function srsSettings(s: { srsSecrets: readonly string[]; srsDomain: string | undefined; srsMaxAge: number }): SrsOptions | undefined {
  if (s.srsSecrets.length === 0 || !s.srsDomain) return undefined;
  return { secrets: s.srsSecrets, domain: s.srsDomain, maxAgeDays: Math.floor(s.srsMaxAge / DAY_MS) };
}
