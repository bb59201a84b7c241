import type { Queryable } from "@correo/db";
import { DirectoryError, normalizeDomain, parseAddress } from "@correo/directory";
import type { FeedbackReport } from "./feedback-report.js";

export type SuppressionReason = "hard-bounce" | "complaint" | "manual";
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = ["hard-bounce", "complaint", "manual"];

export interface Suppression {
  domain: string;
  address: string;
  reason: SuppressionReason;
  detail: string | null;
  createdAt: Date;
  /** created_at in microseconds since the epoch (PostgreSQL's precision), for cursors. */
  createdAtMicros: string;
  messageId: string | null;
}

interface Row {
  domain: string;
  address: string;
  reason: SuppressionReason;
  detail: string | null;
  created_at: Date;
  created_us: string;
  message_id: string | null;
}

const COLUMNS = `d.name AS domain, s.address, s.reason, s.detail, s.created_at, s.message_id,
                 (extract(epoch FROM s.created_at) * 1000000)::bigint::text AS created_us`;

const toSuppression = (r: Row): Suppression => ({
  domain: r.domain,
  address: r.address,
  reason: r.reason,
  detail: r.detail,
  createdAt: r.created_at,
  createdAtMicros: r.created_us,
  messageId: r.message_id,
});

/** The key an address is listed under: the address as parsed, lower-cased (the list's CHECK). */
export function suppressionKey(address: string): string | undefined {
  const p = parseAddress(address.trim());
  return p ? `${p.localPart}@${p.domain}`.toLowerCase() : undefined;
}

async function domainIdOf(db: Queryable, domain: string): Promise<number> {
  const name = normalizeDomain(domain);
  const row = name && (await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name])).rows[0];
  if (!row) throw new DirectoryError("not_found", `domain ${domain} is not hosted here`, "domain");
  return row.id;
}

function keyOrThrow(address: string): string {
  const key = suppressionKey(address);
  if (!key) throw new DirectoryError("invalid", `${JSON.stringify(address)} is not an e-mail address (local-part@domain)`, "address");
  return key;
}

/**
 * Puts an address on a domain's list by hand. An address already listed keeps its entry
 * (reason, time and source stay what they were): `created` says which.
 */
export async function addSuppression(
  db: Queryable,
  input: { domain: string; address: string; reason?: SuppressionReason; detail?: string; messageId?: string; at: Date },
): Promise<{ created: boolean; suppression: Suppression }> {
  const domainId = await domainIdOf(db, input.domain);
  const address = keyOrThrow(input.address);
  const { rows } = await db.query<Row & { created: boolean }>(
    `WITH added AS (
       INSERT INTO suppressions (domain_id, address, reason, detail, created_at, message_id)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (domain_id, address) DO NOTHING RETURNING *
     ), entry AS (
       SELECT *, true AS created FROM added
       UNION ALL SELECT *, false FROM suppressions WHERE domain_id = $1 AND address = $2 AND NOT EXISTS (SELECT 1 FROM added)
     )
     SELECT ${COLUMNS}, s.created FROM entry s JOIN domains d ON d.id = s.domain_id`,
    [domainId, address, input.reason ?? "manual", input.detail ?? null, input.at, input.messageId ?? null],
  );
  return { created: rows[0]!.created, suppression: toSuppression(rows[0]!) };
}

/** Takes an address off a domain's list; mail to it is attempted again. */
export async function removeSuppression(db: Queryable, domain: string, address: string): Promise<void> {
  const domainId = await domainIdOf(db, domain);
  const key = keyOrThrow(address);
  const { rowCount } = await db.query("DELETE FROM suppressions WHERE domain_id = $1 AND address = $2", [domainId, key]);
  if (!rowCount) throw new DirectoryError("not_found", `${key} is not on the suppression list of ${domain}`, "address");
}

/** The entry of one address, if listed. */
export async function findSuppression(db: Queryable, domain: string, address: string): Promise<Suppression | undefined> {
  const domainId = await domainIdOf(db, domain);
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM suppressions s JOIN domains d ON d.id = s.domain_id WHERE s.domain_id = $1 AND s.address = $2`,
    [domainId, keyOrThrow(address)],
  );
  return rows[0] && toSuppression(rows[0]);
}

/** Where a page ends: the last entry's time (microseconds) and address. */
export interface SuppressionPosition {
  createdAtMicros: string;
  address: string;
}

/**
 * One page of a domain's list, newest first, after `after` (exclusive); `limit` + 1 rows
 * are read so that the caller knows whether another page follows.
 */
export async function listSuppressions(
  db: Queryable,
  domain: string,
  opts: { limit: number; after?: SuppressionPosition; reason?: SuppressionReason },
): Promise<{ entries: Suppression[]; next: SuppressionPosition | undefined }> {
  const domainId = await domainIdOf(db, domain);
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM suppressions s JOIN domains d ON d.id = s.domain_id
      WHERE s.domain_id = $1
        AND ($2::bigint IS NULL OR (s.created_at, s.address) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::text))
        AND ($4::text IS NULL OR s.reason = $4)
      ORDER BY s.created_at DESC, s.address DESC LIMIT $5`,
    [domainId, opts.after?.createdAtMicros ?? null, opts.after?.address ?? null, opts.reason ?? null, opts.limit + 1],
  );
  const entries = rows.slice(0, opts.limit).map(toSuppression);
  const last = entries[entries.length - 1];
  return { entries, next: rows.length > opts.limit && last ? { createdAtMicros: last.createdAtMicros, address: last.address } : undefined };
}

/** The whole list, page by page (for the CSV export): never more than one page in memory. */
export async function* allSuppressions(db: Queryable, domain: string, pageSize = 1000): AsyncGenerator<Suppression[]> {
  let after: SuppressionPosition | undefined;
  for (;;) {
    const page = await listSuppressions(db, domain, { limit: pageSize, ...(after ? { after } : {}) });
    if (page.entries.length > 0) yield page.entries;
    if (!page.next) return;
    after = page.next;
  }
}

/**
 * Lists the recipients of hard-bounced deliveries on their message's sending domain's
 * list, in the caller's statement or transaction with the bounce itself. Messages without
 * a sending domain (MX mail, DSNs) feed no list. An address already listed keeps its entry.
 */
export async function suppressHardBounces(db: Queryable, bounces: { deliveryId: string; detail: string }[], at: Date): Promise<number> {
  if (bounces.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO suppressions (domain_id, address, reason, detail, created_at, message_id)
     SELECT m.sending_domain_id, lower(d.recipient), 'hard-bounce', b.detail, $3, m.id
       FROM unnest($1::uuid[], $2::text[]) AS b(id, detail)
       JOIN deliveries d ON d.id = b.id
       JOIN messages m ON m.id = d.message_id
       JOIN domains dom ON dom.id = m.sending_domain_id
     ON CONFLICT (domain_id, address) DO NOTHING`,
    [bounces.map((b) => b.deliveryId), bounces.map((b) => b.detail), at],
  );
  return rowCount ?? 0;
}

export type ComplaintOutcome =
  | { kind: "recorded"; deliveryId: string; messageId: string; recipient: string; domain: string; listed: boolean }
  | { kind: "unmatched"; why: string };

/** RFC 5965 §3.1 Feedback-Type values that are complaints (not-spam is the opposite, RFC 6650 auth-failure is not the user's). */
const COMPLAINT_TYPES = new Set(["abuse", "fraud", "virus", "other"]);

/** A short line for the timeline and the list: what the report said. */
export function complaintDetail(report: FeedbackReport): string {
  const parts = [`feedback-type=${report.feedbackType}`];
  if (report.userAgent) parts.push(`user-agent=${report.userAgent}`);
  if (report.reportingMta) parts.push(`reporting-mta=${report.reportingMta}`);
  if (report.arrivalDate) parts.push(`arrival-date=${report.arrivalDate}`);
  return `ARF report (RFC 5965): ${parts.join(", ")}`;
}

/**
 * A complaint about a message Correo sent: finds its delivery (by the Correo message id of
 * the returned Received: field or by its Message-ID, and by Original-Rcpt-To, else the
 * returned header's recipients), and adds in one statement the 'complained' timeline row
 * (once per delivery) and the suppression entry of the message's sending domain.
 */
export async function recordComplaint(db: Queryable, report: FeedbackReport, at: Date): Promise<ComplaintOutcome> {
  if (!COMPLAINT_TYPES.has(report.feedbackType)) return { kind: "unmatched", why: `Feedback-Type ${report.feedbackType} is not a complaint` };
  const recipients = report.originalRcptTo.length > 0 ? report.originalRcptTo : report.originalHeaderRecipients;
  if (recipients.length === 0) return { kind: "unmatched", why: "the report names no recipient (no Original-Rcpt-To, no To/Cc in the returned header)" };
  if (report.correoMessageIds.length === 0 && !report.originalMessageId) {
    return { kind: "unmatched", why: "the report returns no Message-ID and no Correo Received: id of the original message" };
  }
  const detail = complaintDetail(report);
  const { rows } = await db.query<{ delivery_id: string; message_id: string; recipient: string; domain: string | null; listed: boolean }>(
    `WITH target AS (
       SELECT d.id AS delivery_id, m.id AS message_id, d.recipient, m.sending_domain_id
         FROM messages m JOIN deliveries d ON d.message_id = m.id
        WHERE (m.id = ANY($1::uuid[]) OR m.header_message_id = $2)
          AND lower(d.recipient) = ANY($3::text[])
        ORDER BY m.created_at DESC LIMIT 1
     ), complained AS (
       INSERT INTO delivery_events (delivery_id, at, event, detail)
       SELECT t.delivery_id, $4, 'complained', $5 FROM target t
        WHERE NOT EXISTS (SELECT 1 FROM delivery_events e WHERE e.delivery_id = t.delivery_id AND e.event = 'complained')
     ), listed AS (
       INSERT INTO suppressions (domain_id, address, reason, detail, created_at, message_id)
       SELECT t.sending_domain_id, lower(t.recipient), 'complaint', $5, $4, t.message_id
         FROM target t JOIN domains dom ON dom.id = t.sending_domain_id
       ON CONFLICT (domain_id, address) DO NOTHING RETURNING address
     )
     SELECT t.delivery_id, t.message_id, t.recipient, dom.name AS domain, EXISTS (SELECT 1 FROM listed) AS listed
       FROM target t LEFT JOIN domains dom ON dom.id = t.sending_domain_id`,
    [report.correoMessageIds, report.originalMessageId ?? null, recipients, at, detail],
  );
  const row = rows[0];
  if (!row) return { kind: "unmatched", why: `no delivery of this system's to ${recipients.join(", ")} matches the returned message` };
  return { kind: "recorded", deliveryId: row.delivery_id, messageId: row.message_id, recipient: row.recipient, domain: row.domain ?? "", listed: row.listed };
}

/** RFC 4180 CSV: header line, CRLF line ends, fields quoted when they hold a comma, quote or line break. */
export const CSV_HEADER = "address,reason,detail,created_at,message_id\r\n";

const csvField = (v: string | null) => (v === null ? "" : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function csvLines(entries: Suppression[]): string {
  return entries
    .map((e) => [e.address, e.reason, e.detail, e.createdAt.toISOString(), e.messageId].map(csvField).join(",") + "\r\n")
    .join("");
}

/** The admin API's and HTTP API's snake_case document of an entry. */
export function suppressionDoc(s: Suppression) {
  return {
    address: s.address,
    reason: s.reason,
    detail: s.detail,
    created_at: s.createdAt.toISOString(),
    message_id: s.messageId,
  };
}
