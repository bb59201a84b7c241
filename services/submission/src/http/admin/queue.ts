import type { FastifyInstance } from "fastify";
import { Type, type Static } from "@sinclair/typebox";
import { parseDuration } from "@correo/config";
import type { Pool } from "@correo/db";
import { deleteQueued, deliveryDetailDoc, hold, listQueue, queuedDoc as doc, release, retryNow, showDelivery, type Target } from "@correo/queue";
import { problems, sendProblem } from "../problem.js";

/**
 * The relay's queue (remote deliveries not yet final): `pnpm correo queue …` over HTTP.
 * Changes are written to PostgreSQL; relay-queue's reconciler moves them into the Redis
 * schedule within seconds.
 */
const Time = Type.String({ format: "date-time" });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const QueuedDoc = Type.Object({
  id: Type.String(),
  message_id: Type.String(),
  recipient: Type.String(),
  domain: Type.String(),
  envelope_from: Type.String({ description: "'' is the null sender <>" }),
  subject: Nullable(Type.String()),
  state: Type.String(),
  held: Type.Boolean(),
  attempts: Type.Integer(),
  created_at: Time,
  next_attempt_at: Nullable(Time),
  last_response: Nullable(Type.String()),
});

const ListQuery = Type.Object(
  {
    domain: Type.Optional(Type.String({ description: "recipient domain" })),
    older_than: Type.Optional(Type.String({ description: "only deliveries accepted at least this long ago: 90s, 15m, 2h, 5d" })),
    reason: Type.Optional(Type.String({ description: "substring of the last reply, e.g. 4.4.1 or greylist" })),
    held: Type.Optional(Type.Union([Type.Literal("no"), Type.Literal("only"), Type.Literal("any")], { default: "no" })),
    // Query text is not coerced to numbers by this API: a pattern, as /v1/messages does.
    limit: Type.Optional(Type.String({ pattern: "^([1-9][0-9]{0,3}|10000)$", description: "at most this many deliveries, 1-10000" })),
  },
  { additionalProperties: false },
);
type ListQuery = Static<typeof ListQuery>;

const ActionBody = Type.Object(
  {
    delivery_id: Type.Optional(Type.String({ format: "uuid" })),
    domain: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    bounce: Type.Optional(Type.Boolean({ description: "delete only: send the sender a DSN" })),
  },
  { additionalProperties: false },
);
type ActionBody = Static<typeof ActionBody>;
const IdParams = Type.Object({ id: Type.String({ format: "uuid" }) });
type IdParams = Static<typeof IdParams>;

const ACTION_SUMMARY: Record<string, string> = {
  retry: "Try deferred deliveries now (one, or every one of a domain)",
  hold: "Keep deliveries in the queue without trying them",
  release: "Release held deliveries; they are tried at once",
  delete: "Remove deliveries from the queue; bounce tells the sender with a DSN",
};

export async function queueRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: queue"];
  app.get<{ Querystring: ListQuery }>(
    "/v1/admin/queue",
    { schema: { tags, summary: "List remote deliveries not yet final, oldest first", querystring: ListQuery, response: { 200: Type.Object({ queue: Type.Array(QueuedDoc) }) } } },
    async (req, reply) => {
      const q = req.query;
      const olderThanMs = q.older_than === undefined ? undefined : parseDuration(q.older_than);
      if (q.older_than !== undefined && olderThanMs === undefined) {
        return sendProblem(reply, problems.invalid([{ field: "querystring.older_than", message: `must be a duration like 90s, 15m, 2h or 5d` }]));
      }
      const queue = await listQueue(
        pool,
        {
          ...(q.domain ? { domain: q.domain } : {}),
          ...(olderThanMs !== undefined ? { olderThanMs } : {}),
          ...(q.reason ? { reason: q.reason } : {}),
          held: q.held ?? "no",
          ...(q.limit ? { limit: Number(q.limit) } : {}),
        },
        new Date(),
      );
      return { queue: queue.map(doc) };
    },
  );
  app.get<{ Params: IdParams }>("/v1/admin/queue/:id", { schema: { tags, summary: "One queued delivery with its attempts and replies", params: IdParams } }, async (req, reply) => {
    const d = await showDelivery(pool, req.params.id);
    if (!d) return sendProblem(reply, { title: "Not Found", status: 404, detail: `no delivery ${req.params.id}`, errors: [{ field: "params.id", message: "no such delivery" }] });
    return { delivery: deliveryDetailDoc(d) };
  });
  const actions = {
    retry: (t: Target) => retryNow(pool, t, new Date()),
    hold: (t: Target) => hold(pool, t, new Date()),
    release: (t: Target) => release(pool, t, new Date()),
    delete: (t: Target, bounce: boolean) => deleteQueued(pool, t, { bounce }, new Date()),
  };
  for (const [name, run] of Object.entries(actions)) {
    app.post<{ Body: ActionBody }>(
      `/v1/admin/queue/${name}`,
      { schema: { tags, summary: ACTION_SUMMARY[name]!, body: ActionBody, response: { 200: Type.Object({ deliveries: Type.Array(Type.String()) }) } } },
      async (req, reply) => {
        const b = req.body;
        if ((b.delivery_id === undefined) === (b.domain === undefined)) {
          return sendProblem(reply, problems.invalid([{ field: "body.delivery_id", message: "give exactly one of delivery_id and domain" }]));
        }
        if (b.bounce !== undefined && name !== "delete") {
          return sendProblem(reply, problems.invalid([{ field: "body.bounce", message: "only delete takes bounce" }]));
        }
        const target: Target = b.delivery_id ? { deliveryId: b.delivery_id } : { domain: b.domain! };
        return { deliveries: await run(target, b.bounce === true) };
      },
    );
  }
}
