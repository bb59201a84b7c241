import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
// The request.apiKey decoration (module augmentation) is declared there.
import type {} from "./auth.js";
import type { Pool } from "@correo/db";
import { parseAddress, type ApiKey } from "@correo/directory";
import type { Clock, Outbox, Submission } from "@correo/spool";
import { prependHeaders } from "../message-headers.js";
import { apiReceivedHeader } from "../received.js";
import type { FieldError } from "./addresses.js";
import { acceptHttpMessage } from "./http-accept.js";
import { requestFingerprint } from "./idempotency.js";
import type { Logger } from "@correo/telemetry";
import { problems, sendProblem, type Problem } from "./problem.js";
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

/** A message built by a route, ready for the durable accept. */
export interface BuiltMessage {
  id?: string;
  raw: Buffer;
  submission: Omit<Submission, "raw">;
  tags: string[];
  metadata: Record<string, string>;
}

/** How one accept ended: the answer to send (202, or a replayed one), or a problem. */
export type AcceptOutcome = { kind: "accepted" | "replay"; status: number; body: unknown } | { kind: "problem"; problem: Problem };

/** What both POST routes do once the message is built: size, idempotency, durable accept, 202. */
export async function acceptBuiltMessage(
  app: FastifyInstance,
  opts: MessagesRouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  built: BuiltMessage,
): Promise<FastifyReply> {
  const idemKey = (req.headers as IdempotencyHeaders)["idempotency-key"];
  const outcome = await acceptBuilt(opts, { apiKey: req.apiKey, clientAddress: req.ip, log: req.log as unknown as Logger }, built,
    idemKey ? { key: idemKey, requestHash: requestFingerprint(req.method, req.routeOptions.url ?? req.url, req.body) } : undefined);
  switch (outcome.kind) {
    case "accepted":
      return reply.code(outcome.status).send(outcome.body);
    case "replay":
      return reply.code(outcome.status).header("idempotent-replayed", "true").send(outcome.body);
    case "problem":
      return sendProblem(reply, outcome.problem);
  }
}

/**
 * The accept of one built message, without a reply to write: the single routes and
 * each item of a batch (POST /v1/messages/batch) go through it.
 */
export async function acceptBuilt(
  opts: MessagesRouteOptions,
  caller: { apiKey: ApiKey; clientAddress: string; log: Logger },
  built: BuiltMessage,
  idempotency: { key: string; requestHash: string } | undefined,
): Promise<AcceptOutcome> {
  const now = opts.clock.now();
  // One id per message: the Received: line's, the spool's and (HTTP JSON) the Message-ID's.
  const id = built.id ?? crypto.randomUUID();
  const raw = prependHeaders(built.raw, [apiReceivedHeader({ clientAddress: caller.clientAddress, hostname: opts.hostname, id, date: now })]);
  if (raw.length > opts.maxMessageSize) {
    return { kind: "problem", problem: problems.tooLarge(`the message is ${raw.length} bytes; the limit is ${opts.maxMessageSize}`) };
  }
  const result = await acceptHttpMessage(
    { pool: opts.pool, outbox: opts.outbox, clock: opts.clock, redriveAfterMs: opts.redriveAfterMs, log: caller.log },
    {
      apiKeyId: caller.apiKey.id,
      idempotency,
      // One id for the message: the Received: line's id is the spool's message id.
      // Issue 15: the key's domain's suppression list, and the key's test mode.
      submission: { ...built.submission, messageId: id, raw, sendingDomain: caller.apiKey.domain, test: caller.apiKey.testMode },
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
      return { kind: "accepted", status: 202, body: result.response.body };
    case "replay":
      return { kind: "replay", status: result.response.status, body: result.response.body };
    case "mismatch":
      return { kind: "problem", problem: problems.idempotencyMismatch() };
    case "failed":
      return { kind: "problem", problem: problems.unavailable("the message could not be stored; nothing was kept, try again") };
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
  const problem = envelopeProblem(opts, req.apiKey.domain, from, recipients, errors, recipientField);
  return problem && sendProblem(reply, problem);
}

/** checkEnvelope's verdict as a problem (undefined: fine), for a batch item that has no reply of its own. */
export function envelopeProblem(
  opts: Pick<MessagesRouteOptions, "maxRecipients">,
  keyDomain: string,
  from: string | undefined,
  recipients: string[],
  errors: FieldError[],
  recipientField: string,
  fromField = "from",
): Problem | undefined {
  if (errors.length === 0 && recipients.length === 0) {
    errors.push({ field: recipientField, message: "at least one recipient is needed" });
  }
  if (recipients.length > opts.maxRecipients) {
    errors.push({ field: recipientField, message: `at most ${opts.maxRecipients} recipients per message, got ${recipients.length}` });
  }
  if (errors.length > 0) return problems.invalid(errors);
  const fromDomain = parseAddress(from!)!.domain;
  if (fromDomain !== keyDomain) {
    return problems.forbidden(`this API key may send from @${keyDomain} only, not from @${fromDomain}`, fromField);
  }
  return undefined;
}
