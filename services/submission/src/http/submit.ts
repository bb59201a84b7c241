import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
// The request.apiKey decoration (module augmentation) is declared there.
import type {} from "./auth.js";
import type { Pool } from "@correo/db";
import { parseAddress } from "@correo/directory";
import type { Clock, Outbox, Submission } from "@correo/spool";
import { prependHeaders } from "../message-headers.js";
import { apiReceivedHeader } from "../received.js";
import type { FieldError } from "./addresses.js";
import { acceptHttpMessage } from "./http-accept.js";
import { requestFingerprint } from "./idempotency.js";
import type { Logger } from "@correo/telemetry";
import { problems, sendProblem } from "./problem.js";
import type { IdempotencyHeaders } from "./schemas.js";

export interface MessagesRouteOptions {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  hostname: string;
  maxMessageSize: number;
  /** RFC 5321 §4.5.3.1.8: at least 100; the same limit as SMTP (SMTP_MAX_RECIPIENTS). */
  maxRecipients: number;
  redriveAfterMs: number;
}

/** What both POST routes do once the message is built: size, idempotency, durable accept, 202. */
export async function acceptBuiltMessage(
  app: FastifyInstance,
  opts: MessagesRouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  built: { id?: string; raw: Buffer; submission: Omit<Submission, "raw">; tags: string[]; metadata: Record<string, string> },
): Promise<FastifyReply> {
  const now = opts.clock.now();
  // One id per message: the Received: line's, the spool's and (HTTP JSON) the Message-ID's.
  const id = built.id ?? crypto.randomUUID();
  const raw = prependHeaders(built.raw, [apiReceivedHeader({ clientAddress: req.ip, hostname: opts.hostname, id, date: now })]);
  if (raw.length > opts.maxMessageSize) {
    return sendProblem(reply, problems.tooLarge(`the message is ${raw.length} bytes; the limit is ${opts.maxMessageSize}`));
  }
  const idemKey = (req.headers as IdempotencyHeaders)["idempotency-key"];
  const result = await acceptHttpMessage(
    { pool: opts.pool, outbox: opts.outbox, clock: opts.clock, redriveAfterMs: opts.redriveAfterMs, log: req.log as unknown as Logger },
    {
      apiKeyId: req.apiKey.id,
      idempotency: idemKey ? { key: idemKey, requestHash: requestFingerprint(req.method, req.routeOptions.url ?? req.url, req.body) } : undefined,
      // One id for the message: the Received: line's id is the spool's message id.
      // Issue 15: the key's domain's suppression list, and the key's test mode.
      submission: { ...built.submission, messageId: id, raw, sendingDomain: req.apiKey.domain, test: req.apiKey.testMode },
      tags: built.tags,
      metadata: built.metadata,
      respond: (done) => ({
        id: done.messageId,
        message_id: built.submission.headerMessageId,
        recipients: done.deliveries.map((d) => ({ address: d.recipient, delivery_id: d.deliveryId, status: done.suppressed.includes(d.deliveryId) ? "suppressed" : "queued" })),
      }),
    },
  );
  switch (result.kind) {
    case "accepted":
      return reply.code(202).send(result.response.body);
    case "replay":
      return reply.code(result.response.status).header("idempotent-replayed", "true").send(result.response.body);
    case "mismatch":
      return sendProblem(reply, problems.idempotencyMismatch());
    case "failed":
      return sendProblem(reply, problems.unavailable("the message could not be stored; nothing was kept, try again"));
  }
}

/** The recipient limit and the API key's sender domain, as field errors or a 403. */
export function checkEnvelope(
  opts: MessagesRouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  from: string | undefined,
  recipients: string[],
  errors: FieldError[],
  recipientField: string,
): FastifyReply | undefined {
  if (errors.length === 0 && recipients.length === 0) {
    errors.push({ field: recipientField, message: "at least one recipient is needed" });
  }
  if (recipients.length > opts.maxRecipients) {
    errors.push({ field: recipientField, message: `at most ${opts.maxRecipients} recipients per message, got ${recipients.length}` });
  }
  if (errors.length > 0) return sendProblem(reply, problems.invalid(errors));
  const fromDomain = parseAddress(from!)!.domain;
  if (fromDomain !== req.apiKey.domain) {
    return sendProblem(reply, problems.forbidden(`this API key may send from @${req.apiKey.domain} only, not from @${fromDomain}`, "from"));
  }
  return undefined;
}
