import type { FastifyInstance } from "fastify";
import addressparser from "nodemailer/lib/addressparser";
import type { Pool } from "@correo/db";
import { parseAddress } from "@correo/directory";
import { acceptMessage, type Clock, type Outbox } from "@correo/spool";
import { counter, metricNames } from "@correo/telemetry";
import { composeMessage } from "../compose.js";
import { requireApiKey } from "./auth.js";
import { problems, sendProblem } from "./problem.js";
import { AcceptedResponse, MessageParams, SendMessageBody } from "./schemas.js";

export interface MessagesRouteOptions {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  hostname: string;
  maxMessageSize: number;
  redriveAfterMs: number;
}

// RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients; we take no more.
export const MAX_RECIPIENTS = 100;

const accepted = () => counter(metricNames.messagesAccepted, "Messages accepted, by way in");

type FieldError = { field: string; message: string };

/** Envelope addresses of one field, or the errors naming it. */
function addressesOf(field: string, value: string | string[] | undefined, errors: FieldError[]): string[] {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const out: string[] = [];
  items.forEach((item, i) => {
    const parsed = addressparser(item, { flatten: true });
    const where = Array.isArray(value) ? `${field}[${i}]` : field;
    if (parsed.length !== 1 || !parsed[0]!.address || !parseAddress(parsed[0]!.address)) {
      errors.push({ field: where, message: `'${item}' is not one e-mail address` });
      return;
    }
    out.push(parsed[0]!.address);
  });
  return out;
}

export async function messagesRoutes(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  requireApiKey(app, opts.pool);
  app.post<{ Body: SendMessageBody }>(
    "/v1/messages",
    {
      schema: {
        body: SendMessageBody,
        response: { 202: AcceptedResponse },
      },
    },
    async (req, reply) => {
      const key = req.apiKey;
      const body = req.body;
      const errors: FieldError[] = [];
      const [from] = addressesOf("from", body.from, errors);
      const to = addressesOf("to", body.to, errors);
      const cc = addressesOf("cc", body.cc, errors);
      const bcc = addressesOf("bcc", body.bcc, errors);
      if (body.reply_to !== undefined) addressesOf("reply_to", body.reply_to, errors);
      const recipients = [...new Set([...to, ...cc, ...bcc])];
      if (errors.length === 0 && recipients.length === 0) {
        errors.push({ field: "to", message: "at least one recipient is needed in to, cc or bcc" });
      }
      if (recipients.length > MAX_RECIPIENTS) {
        errors.push({ field: "to", message: `at most ${MAX_RECIPIENTS} recipients per message, got ${recipients.length}` });
      }
      if (body.text === undefined && body.html === undefined && !body.attachments?.length) {
        errors.push({ field: "text", message: "a message needs text, html or attachments" });
      }
      if (errors.length > 0) return sendProblem(reply, problems.invalid(errors));
      const fromDomain = parseAddress(from!)!.domain;
      if (fromDomain !== key.domain) {
        return sendProblem(
          reply,
          problems.forbidden(`this API key may send from @${key.domain} only, not from @${fromDomain}`, "from"),
        );
      }
      const { raw, headerMessageId } = await composeMessage({
        from: body.from,
        to: body.to === undefined ? [] : ([] as string[]).concat(body.to),
        cc: body.cc === undefined ? [] : ([] as string[]).concat(body.cc),
        bcc: body.bcc === undefined ? [] : ([] as string[]).concat(body.bcc),
        replyTo: body.reply_to,
        subject: body.subject,
        text: body.text,
        html: body.html,
        headers: body.headers ?? {},
        attachments: (body.attachments ?? []).map((a) => ({
          filename: a.filename,
          content: Buffer.from(a.content, "base64"),
          contentType: a.content_type,
          cid: a.content_id,
        })),
        messageIdDomain: opts.hostname,
        date: opts.clock.now(),
      });
      if (raw.length > opts.maxMessageSize) {
        return sendProblem(
          reply,
          problems.tooLarge(`the message is ${raw.length} bytes; the limit is ${opts.maxMessageSize}`),
        );
      }
      let result;
      try {
        result = await acceptMessage(
          opts.pool,
          opts.outbox,
          {
            raw,
            envelopeFrom: from!,
            recipients,
            source: "http",
            apiKeyId: key.id,
            headerMessageId,
            subject: body.subject,
          },
          { clock: opts.clock, redriveAfterMs: opts.redriveAfterMs },
        );
      } catch (err) {
        req.log.error({ err }, "could not store the message");
        return sendProblem(reply, problems.unavailable("the message could not be stored; nothing was kept, try again"));
      }
      accepted().add(1, { way: "http" });
      return reply.code(202).send({
        id: result.messageId,
        message_id: headerMessageId,
        recipients: result.deliveries.map((d) => ({ address: d.recipient, delivery_id: d.deliveryId, status: "queued" })),
      });
    },
  );

  app.get<{ Params: MessageParams }>(
    "/v1/messages/:id",
    { schema: { params: MessageParams } },
    async (req, reply) => {
      const key = req.apiKey;
      const { rows: msgs } = await opts.pool.query<{ id: string; header_message_id: string; created_at: Date }>(
        `SELECT m.id, m.header_message_id, m.created_at FROM messages m
           JOIN api_keys k ON k.id = m.api_key_id
          WHERE m.id = $1 AND k.domain_id = (SELECT domain_id FROM api_keys WHERE id = $2)`,
        [req.params.id, key.id],
      );
      const msg = msgs[0];
      if (!msg) return sendProblem(reply, problems.notFound(`no message ${req.params.id} sent with this domain's keys`));
      const { rows } = await opts.pool.query<{
        id: string;
        recipient: string;
        state: string;
        last_response: string | null;
        events: { at: string; event: string; detail: string | null }[];
      }>(
        `SELECT d.id, d.recipient, d.state, d.last_response,
                coalesce(json_agg(json_build_object('at', e.at, 'event', e.event, 'detail', e.detail) ORDER BY e.id)
                         FILTER (WHERE e.id IS NOT NULL), '[]') AS events
           FROM deliveries d LEFT JOIN delivery_events e ON e.delivery_id = d.id
          WHERE d.message_id = $1 GROUP BY d.id ORDER BY d.recipient`,
        [msg.id],
      );
      return reply.send({
        id: msg.id,
        message_id: msg.header_message_id,
        created_at: msg.created_at,
        recipients: rows.map((r) => ({
          address: r.recipient,
          delivery_id: r.id,
          status: r.state,
          last_response: r.last_response,
          events: r.events,
        })),
      });
    },
  );
}
