import type { FastifyInstance } from "fastify";
import { Type, type Static } from "@sinclair/typebox";
import { Value, type ValueError } from "@sinclair/typebox/value";
import type { Outbox, PendingEvent } from "@correo/spool";
import type { Logger } from "@correo/telemetry";
import type { FieldError } from "./addresses.js";
import { requestFingerprint } from "./idempotency.js";
import { messageFromFields, templateLookup } from "./message-fields.js";
import { problems, sendProblem, type Problem } from "./problem.js";
import { AcceptedResponse, ProblemResponse, problemResponses, SendMessageBody } from "./schemas.js";
import { acceptBuilt, type AcceptOutcome, type MessagesRouteOptions } from "./submit.js";

/** The most messages one batch may carry (issue 15 item 4). */
export const MAX_BATCH_MESSAGES = 500;
/** Accepts of one batch in flight at once: enough to keep the pool's connections busy, not all of them. */
export const BATCH_CONCURRENCY = 8;
/** A batch's body may be larger than one message's (500 of them); attachments belong in single sends. */
export const BATCH_BODY_LIMIT = 32 * 1024 * 1024;

const IdempotencyKey = Type.String({ pattern: "^[\\x21-\\x7e]{1,255}$", description: "as the Idempotency-Key header of POST /v1/messages, for this item" });

export const BatchMessage = Type.Object(
  { ...SendMessageBody.properties, idempotency_key: Type.Optional(IdempotencyKey) },
  { additionalProperties: false, description: "one message, as the body of POST /v1/messages, plus its own idempotency key" },
);
export type BatchMessage = Static<typeof BatchMessage>;

export const BatchBody = Type.Object(
  { messages: Type.Array(BatchMessage, { minItems: 1, maxItems: MAX_BATCH_MESSAGES }) },
  {
    additionalProperties: false,
    examples: [
      {
        messages: [
          { from: "orders@example.com", to: "ana@example.net", template: "welcome", variables: { first_name: "Ana" }, idempotency_key: "welcome-ana" },
          { from: "orders@example.com", to: "bo@example.net", template: "welcome", variables: { first_name: "Bo" }, tags: ["welcome"] },
        ],
      },
    ],
  },
);

const BatchItemResult = Type.Object({
  index: Type.Integer({ description: "the message's place in `messages`, from 0" }),
  status: Type.Integer({ description: "what POST /v1/messages would have answered: 202, or the problem's status" }),
  id: Type.Optional(AcceptedResponse.properties.id),
  message_id: Type.Optional(AcceptedResponse.properties.message_id),
  recipients: Type.Optional(AcceptedResponse.properties.recipients),
  idempotent_replayed: Type.Optional(Type.Boolean({ description: "true: the first response for this idempotency key, nothing new was accepted" })),
  problem: Type.Optional(ProblemResponse),
});
type BatchItemResult = Static<typeof BatchItemResult>;

export const BatchResponse = Type.Object(
  {
    accepted: Type.Integer({ description: "items accepted now or before (replayed)" }),
    failed: Type.Integer({ description: "items refused, each with its problem" }),
    results: Type.Array(BatchItemResult, { description: "one per message, in order" }),
  },
  {
    examples: [
      {
        accepted: 1,
        failed: 1,
        results: [
          { index: 0, status: 202, id: "0b6f4c1e-8d1a-4c52-9a51-3f1d2c7e9b10", message_id: "<0b6f4c1e-8d1a-4c52-9a51-3f1d2c7e9b10@mx.example.com>", recipients: [{ address: "ana@example.net", delivery_id: "5d0c…", status: "queued" }] },
          {
            index: 1,
            status: 400,
            problem: { type: "about:blank", title: "Invalid request", status: 400, detail: "messages[1].variables.first_name: is used by the template (subject, line 1, column 12) but not given", errors: [{ field: "messages[1].variables.first_name", message: "is used by the template (subject, line 1, column 12) but not given" }] },
          },
        ],
      },
    ],
  },
);

/**
 * For a union (`to`: one address or a list), the error of the branch that got furthest
 * (`messages[0].to[1]: expected string`), as ajv reports it, rather than "expected union value".
 */
function deepest(e: ValueError): ValueError {
  const branches = (e.errors ?? []).map((it) => it.First()).filter((x): x is ValueError => x !== undefined);
  const best = branches.sort((a, b) => b.path.length - a.path.length)[0];
  return best && best.path.length > e.path.length ? deepest(best) : e;
}

/** TypeBox's errors for one item as the API's field errors (`messages[3].to[0]`), one per field. */
function itemFieldErrors(at: string, errors: Iterable<ValueError>): FieldError[] {
  const out = new Map<string, string>();
  for (const e of [...errors].map(deepest)) {
    const path = e.path.split("/").slice(1).map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`)).join("");
    const field = `${at}${path}`;
    if (out.has(field)) continue;
    const described = (e.schema as { description?: string }).description;
    const message = e.message === "Unexpected property" ? "is not a known field"
      : e.message === "Expected required property" ? "is required"
      : e.message.startsWith("Expected string to match") && described ? `must be ${described}`
      : e.message === "Expected union value" ? (described ? `must be ${described}` : "is none of the forms it may take")
      : e.message.charAt(0).toLowerCase() + e.message.slice(1);
    out.set(field, message);
  }
  return [...out].map(([field, message]) => ({ field, message }));
}

/** Runs `work` over 0..n-1 with at most `limit` in flight. */
async function inParallel(n: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

const resultOf = (index: number, outcome: AcceptOutcome): BatchItemResult => {
  if (outcome.kind === "problem") return { index, status: outcome.problem.status, problem: { type: "about:blank", ...outcome.problem } };
  const body = outcome.body as Pick<BatchItemResult, "id" | "message_id" | "recipients">;
  return { index, status: outcome.status, ...body, ...(outcome.kind === "replay" && { idempotent_replayed: true }) };
};

/**
 * POST /v1/messages/batch: up to 500 messages, each accepted on its own (one durable
 * accept per item, as POST /v1/messages does it) and answered on its own, in order.
 * A bad item is refused with its problem and the others go on: partial success is the
 * normal case, so the batch itself answers 200 whenever it could be read, and each
 * result carries the status the single route would have given (202, 400, 403, 413,
 * 422, 503). Only a body that is not a batch is refused whole: 400, or 413 over 500.
 */
export async function batchRoute(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  app.post<{ Body: unknown }>(
    "/v1/messages/batch",
    {
      schema: {
        summary: "Send up to 500 messages, each accepted and answered on its own",
        description:
          "200 with one result per message, in order; an item that fails (status 400, 403, 413, 422 or 503 with its problem, fields named `messages[i].…`) does not stop the others. Each item may carry `idempotency_key`, with the Idempotency-Key header's semantics.",
        tags: ["messages"],
        security: [{ apiKey: [] }],
        body: BatchBody,
        response: { 200: BatchResponse, ...problemResponses },
      },
      bodyLimit: BATCH_BODY_LIMIT,
      // The schema above documents an item; items are validated one by one below, so
      // that one bad item is refused alone instead of failing the whole batch.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
    },
    async (req, reply) => {
      const body = req.body as { messages?: unknown } | null;
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        return sendProblem(reply, problems.invalid([{ field: "body", message: "must be an object: { \"messages\": [ … ] }" }]));
      }
      const extra = Object.keys(body).filter((k) => k !== "messages");
      if (extra.length > 0) return sendProblem(reply, problems.invalid(extra.map((k) => ({ field: `body.${k}`, message: "is not a known field" }))));
      const messages = body.messages;
      if (!Array.isArray(messages)) return sendProblem(reply, problems.invalid([{ field: "messages", message: "must be an array of messages" }]));
      if (messages.length === 0) return sendProblem(reply, problems.invalid([{ field: "messages", message: "must hold at least one message" }]));
      if (messages.length > MAX_BATCH_MESSAGES) {
        const p: Problem = problems.tooLarge(`a batch holds at most ${MAX_BATCH_MESSAGES} messages, this one ${messages.length}`);
        return sendProblem(reply, { ...p, errors: [{ field: "messages", message: `at most ${MAX_BATCH_MESSAGES} messages, got ${messages.length}` }] });
      }
      const key = req.apiKey;
      const templates = templateLookup(opts.pool, key.domain);
      const caller = { apiKey: key, clientAddress: req.ip, log: req.log as unknown as Logger };
      // The items' events are committed with them (the outbox rows); they are handed to the
      // publisher together once every item is done, so that it publishes and deletes them in
      // one confirmed batch instead of racing the accepts with hundreds of small ones.
      const committed: PendingEvent[] = [];
      const holding: Outbox = Object.create(opts.outbox, { announce: { value: (events: PendingEvent[]) => void committed.push(...events) } });
      const itemOpts = { ...opts, outbox: holding };
      const results: BatchItemResult[] = new Array(messages.length);
      try {
        await inParallel(messages.length, BATCH_CONCURRENCY, async (i) => {
          const at = `messages[${i}].`;
          const item = messages[i] as unknown;
          try {
            if (!Value.Check(BatchMessage, item)) {
              results[i] = resultOf(i, { kind: "problem", problem: problems.invalid(itemFieldErrors(`messages[${i}]`, Value.Errors(BatchMessage, item))) });
              return;
            }
            const { idempotency_key: idemKey, ...message } = item;
            const r = await messageFromFields(opts, key.domain, key.id, message, templates, at);
            if (!r.ok) {
              results[i] = resultOf(i, { kind: "problem", problem: r.problem });
              return;
            }
            // Same key space and fingerprint as POST /v1/messages with an Idempotency-Key:
            // the same message under the same key is one message, whichever route sent it.
            const idem = idemKey ? { key: idemKey, requestHash: requestFingerprint("POST", "/v1/messages", message) } : undefined;
            const outcome = await acceptBuilt(itemOpts, caller, r.built, idem);
            if (outcome.kind === "problem" && outcome.problem.errors) {
              outcome.problem.errors = outcome.problem.errors.map((e) => ({ ...e, field: e.field.replace(/^headers\.idempotency-key$/, `${at}idempotency_key`) }));
            }
            results[i] = resultOf(i, outcome);
          } catch (err) {
            req.log.error({ err, index: i }, "batch item failed");
            results[i] = resultOf(i, { kind: "problem", problem: problems.unavailable("this message could not be stored; nothing was kept for it, try it again") });
          }
        });
      } finally {
        // Whatever happened to the batch, what was committed is announced now (else the sweeper would, later).
        opts.outbox.announce(committed);
      }
      const accepted = results.filter((r) => r.status < 300).length;
      return reply.code(200).send({ accepted, failed: results.length - accepted, results });
    },
  );
}
