import type { FastifyInstance } from "fastify";
import type { Pool } from "@correo/db";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { problems, sendProblem } from "./problem.js";
import {
  ListMessagesQuery,
  MessageListResponse,
  MessageParams,
  MessageStatusResponse,
  problemResponses,
} from "./schemas.js";
import type { MessagesRouteOptions } from "./submit.js";

// The messages a key may see: those sent with any key of its domain.
const SAME_DOMAIN = `m.api_key_id IN (SELECT id FROM api_keys WHERE domain_id = (SELECT domain_id FROM api_keys WHERE id = $1))`;

interface MessageRow {
  id: string;
  header_message_id: string | null;
  envelope_from: string;
  subject: string | null;
  created_at: Date;
  created_us: string;
  tags: string[];
  metadata: Record<string, string>;
  test: boolean;
}

interface RecipientRow {
  id: string;
  recipient: string;
  state: string;
  last_response: string | null;
  events: { at: string; event: string; detail: string | null }[];
}

type ListedRow = MessageRow & { recipients: { address: string; status: string }[] };

/** The WHERE clause of a listing and its parameters ($1 the key, then cursor and filters in order). */
interface ListFilter {
  where: string[];
  params: unknown[];
}

export async function messageStatusRoutes(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  app.get<{ Params: MessageParams }>(
    "/v1/messages/:id",
    {
      schema: {
        summary: "A message: each recipient's state and its event timeline",
        tags: ["messages"],
        security: [{ apiKey: [] }],
        params: MessageParams,
        response: { 200: MessageStatusResponse, ...problemResponses },
      },
    },
    async (req, reply) => {
      const msg = await findMessage(opts.pool, req.apiKey.id, req.params.id);
      if (!msg) return sendProblem(reply, problems.notFound(`no message ${req.params.id} sent with this domain's keys`));
      return reply.send(statusView(msg, await readRecipients(opts.pool, msg.id)));
    },
  );

  app.get<{ Querystring: ListMessagesQuery }>(
    "/v1/messages",
    {
      schema: {
        summary: "List messages, newest first, with filters and cursor pagination",
        tags: ["messages"],
        security: [{ apiKey: [] }],
        querystring: ListMessagesQuery,
        response: { 200: MessageListResponse, ...problemResponses },
      },
    },
    async (req, reply) => {
      const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
      const filter = listFilter(req.query, req.apiKey.id);
      if (!filter) return sendProblem(reply, problems.invalid([{ field: "querystring.cursor", message: "is not a cursor this API gave" }]));
      return reply.send(pageView(await listPage(opts.pool, filter, limit), limit));
    },
  );
}

/** The message, when a key of the caller's domain sent it. */
async function findMessage(pool: Pool, apiKeyId: number, id: string): Promise<MessageRow | undefined> {
  const { rows: msgs } = await pool.query<MessageRow>(
    `SELECT m.id, m.header_message_id, m.envelope_from, m.subject, m.created_at, m.tags, m.metadata, m.test FROM messages m
          WHERE m.id = $2 AND ${SAME_DOMAIN}`,
    [apiKeyId, id],
  );
  return msgs[0];
}

/** Each recipient of the message with its state and its timeline, oldest event first. */
async function readRecipients(pool: Pool, messageId: string): Promise<RecipientRow[]> {
  const { rows } = await pool.query<RecipientRow>(
    `SELECT d.id, d.recipient, d.state, d.last_response,
                coalesce(json_agg(json_build_object('at', e.at, 'event', e.event, 'detail', e.detail) ORDER BY e.id)
                         FILTER (WHERE e.id IS NOT NULL), '[]') AS events
           FROM deliveries d LEFT JOIN delivery_events e ON e.delivery_id = d.id
          WHERE d.message_id = $1 GROUP BY d.id ORDER BY d.recipient`,
    [messageId],
  );
  return rows;
}

function statusView(msg: MessageRow, rows: RecipientRow[]) {
  return {
    id: msg.id,
    message_id: msg.header_message_id,
    from: msg.envelope_from,
    subject: msg.subject,
    created_at: msg.created_at.toISOString(),
    tags: msg.tags,
    metadata: msg.metadata,
    test: msg.test,
    recipients: rows.map((r) => ({
      address: r.recipient,
      delivery_id: r.id,
      status: r.state,
      last_response: r.last_response,
      events: r.events,
    })),
  };
}

/** The listing's conditions from the query string; undefined when the cursor is not one this API gave. */
function listFilter(q: ListMessagesQuery, apiKeyId: number): ListFilter | undefined {
  const params: unknown[] = [apiKeyId];
  const where = [SAME_DOMAIN];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (q.cursor !== undefined) {
    const cursor = decodeCursor(q.cursor);
    if (!cursor) return undefined;
    params.push(cursor.createdAtMicros, cursor.id);
    where.push(`(m.created_at, m.id) < (timestamptz 'epoch' + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`);
  }
  if (q.status) add((n) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.state = ${n})`, q.status);
  if (q.to) add((n) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND lower(d.recipient) = lower(${n}))`, q.to);
  if (q.from) add((n) => `lower(m.envelope_from) = lower(${n})`, q.from);
  if (q.tag) add((n) => `m.tags @> ARRAY[${n}::text]`, q.tag);
  if (q.since) add((n) => `m.created_at >= ${n}::timestamptz`, q.since);
  if (q.until) add((n) => `m.created_at < ${n}::timestamptz`, q.until);
  return { where, params };
}

/** Up to `limit` + 1 messages, newest first: the one past the page says whether there is a next one. */
async function listPage(pool: Pool, { where, params }: ListFilter, limit: number): Promise<ListedRow[]> {
  params.push(limit + 1);
  const { rows } = await pool.query<ListedRow>(
    `SELECT m.id, m.header_message_id, m.envelope_from, m.subject, m.created_at, m.tags, m.metadata, m.test,
                (extract(epoch FROM m.created_at) * 1000000)::bigint::text AS created_us,
                (SELECT coalesce(json_agg(json_build_object('address', d.recipient, 'status', d.state) ORDER BY d.recipient), '[]')
                   FROM deliveries d WHERE d.message_id = m.id) AS recipients
           FROM messages m
          WHERE ${where.join(" AND ")}
          ORDER BY m.created_at DESC, m.id DESC
          LIMIT $${params.length}`,
    params,
  );
  return rows;
}

function pageView(rows: ListedRow[], limit: number) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map((m) => ({
      id: m.id,
      message_id: m.header_message_id,
      from: m.envelope_from,
      subject: m.subject,
      created_at: m.created_at.toISOString(),
      tags: m.tags,
      metadata: m.metadata,
      test: m.test,
      recipients: m.recipients,
    })),
    next_cursor: rows.length > limit && last ? encodeCursor({ createdAtMicros: last.created_us, id: last.id }) : null,
  };
}
