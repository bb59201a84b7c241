import type { FastifyInstance, FastifyReply } from "fastify";
import { Type, type Static } from "@sinclair/typebox";
import {
  deadLetterDetailJson,
  deadLetterJson,
  DeadLetterQueueBusyError,
  DeadLetterUnroutableError,
  type DeadLetterQueue,
} from "@correo/broker";
import { problems, sendProblem } from "../problem.js";

/**
 * The broker's dead-letter queue (events a consumer refused as invalid or that failed
 * up to the delivery limit): `pnpm correo dlq …` over HTTP. At-least-once: a requeue
 * is confirmed by RabbitMQ before the dead letter is removed, so a crash in between
 * can leave the event both requeued and still listed, never lost.
 */
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const DeadLetterDoc = Type.Object({
  id: Type.String({ description: "the event's AMQP message-id, or sha256:<hex> of its body when it has none" }),
  routing_key: Type.String({ description: "the routing key it was published with: its event type" }),
  event_type: Nullable(Type.String({ description: "the body's type field; null when the body is not JSON" })),
  reason: Nullable(Type.String({ description: "why RabbitMQ dead-lettered it first: rejected (refused as invalid), delivery_limit, expired, maxlen" })),
  death_count: Type.Integer({ description: "how many times it was dead-lettered" }),
  original_queue: Nullable(Type.String()),
  original_exchange: Nullable(Type.String()),
  first_death_at: Nullable(Type.String({ format: "date-time" })),
  size: Type.Integer({ description: "body size in bytes" }),
});
const DeadLetterDetailDoc = Type.Intersect([
  DeadLetterDoc,
  Type.Object({
    content_type: Nullable(Type.String()),
    body: Type.String({ description: "the event body as text" }),
    event: Type.Unknown({ description: "the body parsed as JSON; null when it is not JSON" }),
    headers: Type.Record(Type.String(), Type.Unknown(), { description: "AMQP headers, x-death included" }),
  }),
]);

const ListQuery = Type.Object(
  {
    // Strings: this API does not coerce query values.
    offset: Type.Optional(Type.String({ pattern: "^(0|[1-9][0-9]{0,5})$", description: "dead letters to skip, oldest first, 0-999999 (default 0)" })),
    limit: Type.Optional(Type.String({ pattern: "^([1-9][0-9]{0,2}|1000)$", description: "page size, 1-1000 (default 50)" })),
  },
  { additionalProperties: false },
);
type ListQuery = Static<typeof ListQuery>;
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
type IdParams = Static<typeof IdParams>;

const doc = deadLetterJson;
const detailDoc = deadLetterDetailJson;

const notFound = (reply: FastifyReply, id: string) => sendProblem(reply, problems.notFound(`no dead letter ${id}`, "params.id"));

/** Busy and unroutable are the two refusals an operator can act on; anything else is the error handler's. */
async function answer<T>(reply: FastifyReply, run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; reply: FastifyReply }> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (err instanceof DeadLetterQueueBusyError || err instanceof DeadLetterUnroutableError) {
      return { ok: false, reply: sendProblem(reply, problems.conflict(err.message)) };
    }
    throw err;
  }
}

export async function deadLetterRoutes(app: FastifyInstance, { deadLetters }: { deadLetters: DeadLetterQueue }): Promise<void> {
  const tags = ["admin: dead letters"];
  app.get<{ Querystring: ListQuery }>(
    "/v1/admin/dead-letters",
    {
      schema: {
        tags,
        summary: "List dead letters, oldest first",
        querystring: ListQuery,
        response: {
          200: Type.Object({
            total: Type.Integer({ description: "dead letters in the queue" }),
            offset: Type.Integer(),
            limit: Type.Integer(),
            dead_letters: Type.Array(DeadLetterDoc),
          }),
        },
      },
    },
    async (req, reply) => {
      const offset = Number(req.query.offset ?? 0);
      const limit = Number(req.query.limit ?? 50);
      const r = await answer(reply, () => deadLetters.list({ offset, limit }));
      return r.ok ? { total: r.value.total, offset, limit, dead_letters: r.value.deadLetters.map(doc) } : r.reply;
    },
  );
  app.get<{ Params: IdParams }>(
    "/v1/admin/dead-letters/:id",
    { schema: { tags, summary: "Show one dead letter with its full event body", params: IdParams, response: { 200: Type.Object({ dead_letter: DeadLetterDetailDoc }) } } },
    async (req, reply) => {
      const r = await answer(reply, () => deadLetters.show(req.params.id));
      if (!r.ok) return r.reply;
      return r.value ? { dead_letter: detailDoc(r.value) } : notFound(reply, req.params.id);
    },
  );
  app.post<{ Params: IdParams }>(
    "/v1/admin/dead-letters/:id/requeue",
    {
      schema: {
        tags,
        summary: "Publish a dead letter again to its original routing key, then remove it",
        description:
          "Republished to the exchange and routing key it was first dead-lettered from, with its headers minus x-death, confirmed by RabbitMQ before the dead letter is removed (at-least-once). 409 when no queue is bound to its routing key (it stays).",
        params: IdParams,
        response: { 200: Type.Object({ requeued: DeadLetterDoc }) },
      },
    },
    async (req, reply) => {
      const r = await answer(reply, () => deadLetters.requeue(req.params.id));
      if (!r.ok) return r.reply;
      return r.value ? { requeued: doc(r.value) } : notFound(reply, req.params.id);
    },
  );
  app.delete<{ Params: IdParams }>(
    "/v1/admin/dead-letters/:id",
    { schema: { tags, summary: "Drop a dead letter for good", params: IdParams } },
    async (req, reply) => {
      const r = await answer(reply, () => deadLetters.drop(req.params.id));
      if (!r.ok) return r.reply;
      return r.value ? reply.code(204).send() : notFound(reply, req.params.id);
    },
  );
}
