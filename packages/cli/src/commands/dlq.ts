import { infraSpec, loadConfig } from "@correo/config";
import {
  BrokerUnavailableError,
  deadLetterDetailJson,
  deadLetterJson,
  DeadLetterQueue,
  DeadLetterQueueBusyError,
  DeadLetterUnroutableError,
} from "@correo/broker";
import { DirectoryError } from "@correo/directory";
import { InfraUnreachableError } from "@correo/runtime";
import { table } from "../output.js";
import { Refused, UsageError, type Command, type CommandContext } from "./types.js";

/**
 * `correo dlq …`: the broker's dead-letter queue (AMQP_URL, CORREO_PREFIX), the same
 * operations as the admin API's /v1/admin/dead-letters. --json prints the API's
 * documents. Exit 69 when RabbitMQ is unreachable.
 */

async function withQueue<T>(run: (dlq: DeadLetterQueue) => Promise<T>): Promise<T> {
  const config = loadConfig({ amqpUrl: infraSpec.amqpUrl, prefix: infraSpec.prefix });
  try {
    return await run(new DeadLetterQueue({ url: config.amqpUrl, prefix: config.prefix, connectionName: `correo dlq ${process.pid}` }));
  } catch (err) {
    if (err instanceof BrokerUnavailableError) throw new InfraUnreachableError("RabbitMQ", config.amqpUrl, err.message);
    if (err instanceof DeadLetterQueueBusyError) throw new Refused("busy", err.message);
    if (err instanceof DeadLetterUnroutableError) throw new Refused("unroutable", err.message);
    throw err;
  }
}

function count(ctx: CommandContext, name: string, fallback: number, max: number): number {
  const v = ctx.flags[name];
  if (v === undefined || v === false) return fallback;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n <= max)) throw new UsageError(`--${name} must be a whole number up to ${max}`);
  return n;
}

function id(ctx: CommandContext): string {
  const v = ctx.args[0];
  if (!v) throw new UsageError("missing <id> (see correo dlq list)");
  return v;
}

const notFound = (v: string) => new DirectoryError("not_found", `no dead letter ${v}`);

export const dlqCommands: Record<string, Command> = {
  list: {
    usage: "dlq list [--limit <50>] [--offset <0>]",
    database: false,
    summary: "list dead-lettered events, oldest first",
    flags: {
      limit: { type: "string", value: "<n>", help: "how many to list, 1 to 1000 (default 50)" },
      offset: { type: "string", value: "<n>", help: "how many to skip first (default 0)" },
    },
    async run(ctx) {
      const offset = count(ctx, "offset", 0, 999_999);
      const limit = count(ctx, "limit", 50, 1000);
      if (limit === 0) throw new UsageError("--limit must be at least 1");
      const page = await withQueue((q) => q.list({ offset, limit }));
      const doc = { total: page.total, offset, limit, dead_letters: page.deadLetters.map(deadLetterJson) };
      ctx.out.result(doc, () => {
        const shown = `${page.deadLetters.length} of ${page.total} dead letter${page.total === 1 ? "" : "s"}\n`;
        return table(doc.dead_letters, ["id", "routing_key", "reason", "death_count", "original_queue", "first_death_at", "size"]) + shown;
      });
    },
  },
  show: {
    usage: "dlq show <id>",
    database: false,
    flags: {},
    summary: "one dead letter with its full event body and headers",
    async run(ctx) {
      const which = id(ctx);
      const d = await withQueue((q) => q.show(which));
      if (!d) throw notFound(which);
      const doc = deadLetterDetailJson(d);
      ctx.out.result({ dead_letter: doc }, () =>
        [
          `id              ${doc.id}`,
          `routing key     ${doc.routing_key}${doc.event_type && doc.event_type !== doc.routing_key ? ` (type ${doc.event_type})` : ""}`,
          `reason          ${doc.reason ?? "-"}, dead-lettered ${doc.death_count} time${doc.death_count === 1 ? "" : "s"}, first at ${doc.first_death_at ?? "-"}`,
          `from            queue ${doc.original_queue ?? "-"}, exchange ${doc.original_exchange ?? "-"}`,
          `size            ${doc.size} bytes (${doc.content_type ?? "no content type"})`,
          "",
          doc.event === null ? doc.body : JSON.stringify(doc.event, null, 2),
          "",
        ].join("\n"),
      );
    },
  },
  requeue: {
    usage: "dlq requeue <id>",
    database: false,
    flags: {},
    summary: "publish a dead letter again to its original routing key, then remove it",
    async run(ctx) {
      const which = id(ctx);
      const d = await withQueue((q) => q.requeue(which));
      if (!d) throw notFound(which);
      ctx.out.result({ requeued: deadLetterJson(d) }, () => `requeued ${d.id} to ${d.routingKey}\n`);
    },
  },
  drop: {
    usage: "dlq drop <id>",
    database: false,
    flags: {},
    summary: "remove a dead letter for good",
    async run(ctx) {
      const which = id(ctx);
      const d = await withQueue((q) => q.drop(which));
      if (!d) throw notFound(which);
      ctx.out.result({ dropped: deadLetterJson(d) }, () => `dropped ${d.id}\n`);
    },
  },
};
