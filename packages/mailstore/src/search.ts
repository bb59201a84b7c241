/**
 * SEARCH (RFC 3501 §6.4.4, IMAP4rev2 RFC 9051 §6.4.4). Criteria on stored facts
 * (flags, dates, sizes, UIDs, MODSEQ) become one SQL condition, so that SEARCH UNSEEN
 * on a large folder reads an index instead of every row. Text keys read the message
 * and compare decoded text case-insensitively (RFC 9051: "substring,
 * case-insensitive"), so CHARSET UTF-8 searches match encoded words and
 * base64/quoted-printable bodies; the parts of such a search that SQL can answer
 * narrow down the messages read, and so does the trigram index of the folded text
 * (blob_search_text, migration 025): a message whose text lacks the needle cannot
 * match, one whose text has it is read and checked exactly.
 */
import type { Queryable } from "@correo/db";
import { readContents } from "@correo/spool";
import { UNSEEN } from "./messages.js";
import { addresses, describeMessage, messageBodyStart, parseHeaderBlock, type BodyPart } from "./mime-structure.js";

export type { SearchKey } from "@correo/imap";
import { systemFlag, type SearchKey } from "@correo/imap";

interface Row {
  uid: number;
  flags: string[];
  internal_date: Date;
  /** The Date: header's calendar day in its own zone, YYYY-MM-DD (migration 014). */
  sent_day: string | null;
  size: number;
  modseq: number;
  blob_id: string;
}

const BATCH = 2000;

export interface SearchOptions {
  /** false: evaluate every criterion in this process (the reference the SQL path is tested against). */
  sql?: boolean;
}

export async function searchMessages(db: Queryable, mailboxId: number, criteria: SearchKey, opts: SearchOptions = {}): Promise<number[]> {
  const useSql = opts.sql ?? true;
  if (useSql) {
    const params: unknown[] = [mailboxId];
    const where = toSql(criteria, params);
    if (where !== undefined) {
      const { rows } = await db.query<{ uid: number }>(
        `SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 AND ${where} ORDER BY uid`,
        params,
      );
      return rows.map((r) => Number(r.uid));
    }
  }
  // Text keys: read the messages, narrowed by what SQL and the text index can answer.
  const needsText = usesText(criteria);
  const params: unknown[] = [mailboxId, 0];
  let narrowing: string | undefined;
  if (useSql) {
    if (needsText) await indexBlobs(db, mailboxId);
    narrowing = narrowSql(criteria, params);
  }
  const found: number[] = [];
  for (let after = 0; ; ) {
    params[1] = after;
    const { rows } = await db.query<Row>(
      `SELECT uid, flags, internal_date, sent_day::text AS sent_day, size, modseq, blob_id FROM mailbox_messages
        WHERE mailbox_id = $1 AND uid > $2 ${narrowing ? `AND ${narrowing}` : ""} ORDER BY uid LIMIT ${BATCH}`,
      params,
    );
    if (rows.length === 0) break;
    const contents = needsText ? await readContents(db, rows.map((r) => r.blob_id)) : new Map<string, Buffer>();
    // Copies share a blob: its decoded text is built once a batch.
    const views = new Map<string, TextView>();
    for (const r of rows) {
      let text = views.get(r.blob_id);
      if (!text) views.set(r.blob_id, (text = new TextView(contents.get(r.blob_id))));
      if (matches(criteria, r, text)) found.push(r.uid);
    }
    after = rows[rows.length - 1]!.uid;
    if (rows.length < BATCH) break;
  }
  return found;
}

/** Above this many characters of folded text a blob is not indexed (text NULL: always a candidate). */
export const MAX_INDEXED_TEXT = 4 * 1024 * 1024;
const INDEX_BATCH = 200;

/**
 * Makes the blob_search_text rows (migration 025) this mailbox's messages lack, so that
 * the narrowing below may drop every message whose row lacks the needle. A message the
 * session knows of was stored before its SEARCH began, so it is indexed here.
 */
async function indexBlobs(db: Queryable, mailboxId: number): Promise<void> {
  for (;;) {
    const { rows } = await db.query<{ blob_id: string }>(
      `SELECT DISTINCT m.blob_id FROM mailbox_messages m
        WHERE m.mailbox_id = $1 AND NOT EXISTS (SELECT 1 FROM blob_search_text t WHERE t.blob_id = m.blob_id)
        LIMIT ${INDEX_BATCH}`,
      [mailboxId],
    );
    if (rows.length === 0) return;
    const contents = await readContents(db, rows.map((r) => r.blob_id));
    const ids: string[] = [];
    const texts: (string | null)[] = [];
    for (const { blob_id } of rows) {
      const raw = contents.get(blob_id);
      if (!raw) continue;
      ids.push(blob_id);
      texts.push(searchText(raw));
    }
    if (ids.length)
      await db.query(
        `INSERT INTO blob_search_text (blob_id, text) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (blob_id) DO NOTHING`,
        [ids, texts],
      );
    if (rows.length < INDEX_BATCH) return;
  }
}

/**
 * What blob_search_text holds for a message: every piece a text key compares (each
 * decoded header value and address, the decoded body), each folded as the exact check
 * folds it, one a line. A needle found in one piece is found in the whole, so the index
 * never drops a match. NUL, which PostgreSQL's text cannot hold, becomes a space (the
 * needle of such a search is not narrowed). NULL when too large to index.
 */
export function searchText(raw: Buffer): string | null {
  const view = new TextView(raw);
  const pieces = [...view.headerValues(), view.bodyValue()];
  let length = 0;
  for (const p of pieces) length += p.length + 1;
  if (length > MAX_INDEXED_TEXT) return null;
  return pieces.join("\n").replace(/\0/g, " ");
}

/**
 * A condition over mailbox_messages that is true wherever `k` matches (it may also be
 * true where it does not): SQL's own conditions, and for text keys "the blob's folded
 * text contains the needle". Undefined when nothing narrows.
 */
function narrowSql(k: SearchKey, params: unknown[]): string | undefined {
  switch (k.key) {
    case "header":
    case "body":
    case "text": {
      const needle = fold(k.value);
      if (needle === "" || needle.includes("\0")) return undefined;
      const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // Through the function of migration 027, so that PostgreSQL reads the trigram index.
      return `blob_id IN (SELECT search_text_candidates($${params.push(pattern)}))`;
    }
    case "and": {
      const parts = k.keys.map((x) => narrowSql(x, params)).filter((c): c is string => c !== undefined);
      return parts.length ? `(${parts.join(" AND ")})` : undefined;
    }
    case "or": {
      const mark = params.length;
      const left = narrowSql(k.left, params);
      const right = left === undefined ? undefined : narrowSql(k.right, params);
      if (left === undefined || right === undefined) {
        params.length = mark;
        return undefined;
      }
      return `(${left} OR ${right})`;
    }
    default:
      // NOT of a text key may match a message whose text has the needle: only exact
      // conditions narrow under NOT.
      return toSql(k, params);
  }
}

/** Above this many separate UID ranges, a set goes to SQL as a list of UIDs. */
const MAX_RANGES = 64;
/** Above this many UIDs in such a list, the UID criterion is checked here instead. */
const MAX_LISTED_UIDS = 200_000;

/**
 * A criterion as an SQL condition over mailbox_messages that is true exactly where
 * `matches` is (never NULL, so NOT keeps its meaning), with its values appended to
 * `params`; undefined when it needs the message text.
 */
function toSql(k: SearchKey, params: unknown[]): string | undefined {
  const param = (v: unknown) => `$${params.push(v)}`;
  switch (k.key) {
    case "all":
      return "TRUE";
    case "none":
      return "FALSE";
    case "flag": {
      // System flags are stored in their canonical case, so = ANY matches them (and
      // UNSEEN is the unseen index's own predicate).
      const system = systemFlag(k.flag);
      if (system) return k.set ? `('${system}' = ANY (flags))` : system === "\\Seen" ? UNSEEN : `NOT ('${system}' = ANY (flags))`;
      // Keywords compare case-insensitively (RFC 3501 §2.3.2); \Recent is never stored.
      const test = `EXISTS (SELECT 1 FROM unnest(flags) AS f WHERE lower(f) = ${param(k.flag.toLowerCase())})`;
      return k.set ? test : `NOT ${test}`;
    }
    case "uid": {
      const ranges = mergeRanges(k.ranges);
      if (ranges.length === 0) return "FALSE";
      if (ranges.length <= MAX_RANGES) return `(${ranges.map(([lo, hi]) => `uid BETWEEN ${param(lo)} AND ${param(hi)}`).join(" OR ")})`;
      const count = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
      if (count > MAX_LISTED_UIDS) return undefined;
      const uids = ranges.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));
      return `uid IN (SELECT unnest(${param(uids)}::bigint[]))`;
    }
    case "date": {
      const op = k.op === "before" ? "<" : k.op === "on" ? "=" : ">=";
      // RFC 3501 §6.4.4: SENT* compare the Date: header's day in its own zone (sent_day,
      // migration 014); internal dates compare calendar days in UTC, as `day()` does. No
      // Date: header → no match.
      const day = k.field === "internal" ? "(internal_date AT TIME ZONE 'UTC')::date" : "sent_day";
      return `coalesce(${day} ${op} ${param(k.day)}::date, FALSE)`;
    }
    case "instant":
      return `internal_date ${k.op === "before" ? "<" : ">="} ${param(new Date(k.at).toISOString())}::timestamptz`;
    case "size":
      return `size ${k.op === "larger" ? ">" : "<"} ${param(k.octets)}`;
    case "modseq":
      return `modseq >= ${param(k.modseq)}`;
    case "blob":
      return `blob_id = ${param(k.blobId)}`;
    case "header":
    case "body":
    case "text":
      return undefined;
    case "not": {
      const inner = toSql(k.inner, params);
      return inner === undefined ? undefined : `NOT (${inner})`;
    }
    case "or":
    case "and": {
      const keys = k.key === "or" ? [k.left, k.right] : k.keys;
      if (keys.length === 0) return "TRUE";
      // Values of a part that turns out untranslatable are taken back out.
      const mark = params.length;
      const parts = keys.map((x) => toSql(x, params));
      if (parts.some((c) => c === undefined)) {
        params.length = mark;
        return undefined;
      }
      return `(${parts.join(k.key === "or" ? " OR " : " AND ")})`;
    }
  }
}

/** Sorted, overlapping and adjacent ranges joined. */
function mergeRanges(ranges: readonly [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function usesText(k: SearchKey): boolean {
  switch (k.key) {
    case "header":
    case "body":
    case "text":
      return true;
    case "not":
      return usesText(k.inner);
    case "or":
      return usesText(k.left) || usesText(k.right);
    case "and":
      return k.keys.some(usesText);
    default:
      return false;
  }
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function matches(k: SearchKey, r: Row, text: TextView): boolean {
  switch (k.key) {
    case "all":
      return true;
    case "none":
      return false;
    case "flag": {
      const has = r.flags.some((f) => f.toLowerCase() === k.flag.toLowerCase());
      return has === k.set;
    }
    case "uid":
      return k.ranges.some(([lo, hi]) => r.uid >= lo && r.uid <= hi);
    case "date": {
      const have = k.field === "internal" ? day(r.internal_date) : r.sent_day;
      if (!have) return false;
      return k.op === "before" ? have < k.day : k.op === "on" ? have === k.day : have >= k.day;
    }
    case "instant":
      return k.op === "before" ? r.internal_date.getTime() < k.at : r.internal_date.getTime() >= k.at;
    case "size":
      return k.op === "larger" ? r.size > k.octets : r.size < k.octets;
    case "modseq":
      return r.modseq >= k.modseq;
    case "blob":
      return r.blob_id === k.blobId;
    case "header":
      return text.header(k.field, k.value);
    case "body":
      return text.body(k.value);
    case "text":
      return text.header(undefined, k.value) || text.body(k.value);
    case "not":
      return !matches(k.inner, r, text);
    case "or":
      return matches(k.left, r, text) || matches(k.right, r, text);
    case "and":
      return k.keys.every((x) => matches(x, r, text));
  }
}

/** A message's decoded header fields and text, built on first use. */
class TextView {
  private headers?: Map<string, string[]>;
  private bodyText?: string;
  constructor(private readonly raw: Buffer | undefined) {}

  /** Every decoded header value and address text, folded: what header keys compare. */
  headerValues(): string[] {
    this.loadHeaders();
    return [...(this.headers?.values() ?? [])].flat().map(fold);
  }

  /** The decoded body text, folded: what BODY compares. */
  bodyValue(): string {
    this.loadBody();
    return this.bodyText ?? "";
  }

  header(field: string | undefined, needle: string): boolean {
    if (!this.raw) return false;
    this.loadHeaders();
    const n = fold(needle);
    const values = field === undefined ? [...this.headers!.values()].flat() : this.headers!.get(field.toLowerCase());
    if (!values) return false;
    // RFC 3501: HEADER with an empty string matches every message that has the field.
    return values.some((v) => fold(v).includes(n));
  }

  body(needle: string): boolean {
    if (!this.raw) return false;
    this.loadBody();
    return this.bodyText!.includes(fold(needle));
  }

  private loadBody(): void {
    if (!this.raw || this.bodyText !== undefined) return;
    const d = describeMessage(this.raw);
    this.bodyText = fold(textOf(this.raw, d.bodyStructure));
  }

  private loadHeaders(): void {
    if (!this.raw) return;
    if (!this.headers) {
      const s = this.raw.toString("latin1");
      // Only the header block: describing the whole message (every part, the envelope)
      // was most of what a header key cost for each candidate.
      const decoded = new Map<string, string[]>();
      for (const [name, values] of parseHeaderBlock(s, 0, messageBodyStart(s))) {
        const texts = values.map(decodeWords);
        if (ADDRESS_FIELDS.has(name)) texts.push(...values.flatMap(addressTexts));
        decoded.set(name, texts);
      }
      this.headers = decoded;
    }
  }
}

const ADDRESS_FIELDS = new Set(["from", "to", "cc", "bcc", "sender", "reply-to"]);

/**
 * An address field's addresses as `name <mailbox@host>` (and its group names), searched
 * beside the field as written: SEARCH FROM user@domain.org finds
 * `<user (comment)@ (comment) domain.org>`, whose comments are no part of the address.
 */
function addressTexts(value: string): string[] {
  return (addresses(value) ?? []).flatMap((a) => {
    if (a.host === null) return a.mailbox ? [decodeWords(a.mailbox)] : [];
    const spec = `${a.mailbox ?? ""}@${a.host}`;
    return [a.name ? `${decodeWords(a.name)} <${spec}>` : spec];
  });
}

function fold(s: string): string {
  return s.normalize("NFC").toLowerCase();
}

/** The decoded text of a message's text parts (other parts as they are stored). */
function textOf(raw: Buffer, part: BodyPart): string {
  if (part.parts) return part.parts.map((p) => textOf(raw, p)).join("\n");
  if (part.message) return textOf(raw, part.message.body);
  const body = raw.subarray(part.bodyStart, part.end);
  const bytes = decodeTransfer(body, part.encoding);
  if (part.type !== "text") return bytes.toString("latin1");
  return decodeCharset(bytes, part.params.find(([k]) => k === "charset")?.[1] ?? "us-ascii");
}

/** One leaf part's body, transfer-decoded and, for text/*, charset-decoded (RFC 2045 §6, RFC 2046 §4.1.2). */
export function partText(raw: Buffer, part: BodyPart): string {
  return textOf(raw, { ...part, parts: undefined, message: undefined });
}

export function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case "base64":
      return Buffer.from(body.toString("latin1").replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
    case "quoted-printable": {
      const s = body.toString("latin1").replace(/=\r?\n/g, "");
      return Buffer.from(s.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
    }
    default:
      return body;
  }
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase() === "us-ascii" ? "utf-8" : charset).decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}

/** RFC 2047 encoded words (`=?utf-8?Q?…?=`, `=?…?B?…?=`), adjacent ones joined. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toUpperCase() === "B"
          ? Buffer.from(text, "base64")
          : Buffer.from(text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (__, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
      return decodeCharset(bytes, charset);
    });
}
