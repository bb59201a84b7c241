import { Redis } from "ioredis";
import { infraSpec, loadConfig, parseDuration } from "@correo/config";
import { DirectoryError } from "@correo/directory";
import { deleteQueued, hold, listQueue, release, retryNow, RetrySchedule, showDelivery, type QueueFilter, type Target } from "@correo/queue";
import { table } from "../output.js";
import { UsageError, type Command, type CommandContext } from "./types.js";

/**
 * `correo queue …`: the relay's queue (remote deliveries not yet final), after Postfix's
 * mailq / postqueue -f / postsuper -h -H -d. Changes go to PostgreSQL; the Redis
 * schedule is updated too when REDIS_URL answers, else relay-queue's reconciler picks
 * the change up within a minute.
 */

/** Flags that take a value are written `--name=value` (the CLI's parser knows only its own). */
function valueFlag(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  if (v === true) throw new UsageError(`write --${name}=<value>`);
  return typeof v === "string" && v !== "" ? v : undefined;
}

function target(ctx: CommandContext): Target {
  const domain = valueFlag(ctx, "domain");
  const id = ctx.args[0];
  if (domain && id) throw new UsageError("give a delivery id or --domain, not both");
  if (domain) return { domain };
  if (!id) throw new UsageError("missing <delivery-id> (or --domain=<domain>)");
  return { deliveryId: id };
}

/** The retry schedule, when Redis answers within a second; undefined otherwise. */
async function withSchedule<T>(fn: (schedule: RetrySchedule | undefined) => Promise<T>): Promise<{ result: T; scheduled: boolean }> {
  const config = loadConfig({ redisUrl: infraSpec.redisUrl, prefix: infraSpec.prefix });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  let schedule: RetrySchedule | undefined;
  try {
    await redis.connect();
    schedule = new RetrySchedule(redis, config.prefix);
  } catch {
    schedule = undefined;
  }
  try {
    return { result: await fn(schedule), scheduled: schedule !== undefined };
  } finally {
    redis.disconnect();
  }
}

const DONE: Record<string, string> = { retry: "retried", hold: "held", release: "released", delete: "deleted" };

function action(verb: string, summary: string, run: (ctx: CommandContext, t: Target, s: RetrySchedule | undefined) => Promise<string[]>): Command {
  return {
    usage: `queue ${verb} <delivery-id> | --domain=<domain>${verb === "delete" ? " [--bounce]" : ""}`,
    summary,
    async run(ctx) {
      const t = target(ctx);
      const { result: ids, scheduled } = await withSchedule((s) => run(ctx, t, s));
      const note = scheduled || ids.length === 0 ? "" : "(Redis not reachable: relay-queue's reconciler applies it within a minute)\n";
      const done = DONE[verb]!;
      ctx.out.result({ [done]: ids }, () => `${ids.length} deliver${ids.length === 1 ? "y" : "ies"} ${verb === "retry" ? "due now" : done}\n${note}`);
    },
  };
}

export const queueCommands: Record<string, Command> = {
  list: {
    usage: "queue list [--domain=<d>] [--older-than=<2h>] [--reason=<text>] [--held | --all]",
    summary: "list deferred remote deliveries, oldest first",
    async run(ctx) {
      const filter: QueueFilter = { held: ctx.flags.held === true ? "only" : ctx.flags.all === true ? "any" : "no" };
      const domain = valueFlag(ctx, "domain");
      const reason = valueFlag(ctx, "reason");
      const older = valueFlag(ctx, "older-than");
      if (domain) filter.domain = domain;
      if (reason) filter.reason = reason;
      if (older) {
        const ms = parseDuration(older);
        if (ms === undefined) throw new UsageError(`--older-than must be a duration like 90s, 15m, 2h or 5d, got '${older}'`);
        filter.olderThanMs = ms;
      }
      const queue = await listQueue(ctx.pool, filter, new Date());
      ctx.out.result({ queue }, () =>
        table(
          queue.map((d) => ({ ...d, age: age(d.createdAt), next: d.held ? "held" : d.nextAttemptAt })),
          ["id", "recipient", "envelopeFrom", "age", "attempts", "next", "lastResponse"],
        ),
      );
    },
  },
  show: {
    usage: "queue show <delivery-id>",
    summary: "one delivery with its attempts and replies",
    async run(ctx) {
      const id = ctx.args[0];
      if (!id) throw new UsageError("missing <delivery-id>");
      const delivery = await showDelivery(ctx.pool, id);
      if (!delivery) throw new DirectoryError("not_found", `no delivery ${id}`);
      ctx.out.result({ delivery }, () =>
        [
          `delivery    ${delivery.id} (message ${delivery.messageId})`,
          `from        <${delivery.envelopeFrom}>   subject: ${delivery.subject ?? "-"}`,
          `to          <${delivery.recipient}>`,
          `state       ${delivery.state}${delivery.held ? " (held)" : ""}, ${delivery.attempts} attempts, next ${delivery.nextAttemptAt?.toISOString() ?? "-"}`,
          `last reply  ${delivery.lastResponse ?? "-"}${delivery.remoteMta ? ` from ${delivery.remoteMta}` : ""}`,
          "",
          table(delivery.events, ["at", "event", "detail"]),
        ].join("\n"),
      );
    },
  },
  retry: action("retry", "try deferred deliveries now (one, or every one of a domain)", (ctx, t, s) => retryNow(ctx.pool, t, new Date(), s)),
  hold: action("hold", "keep deliveries in the queue without trying them", (ctx, t, s) => hold(ctx.pool, t, new Date(), s)),
  release: action("release", "release held deliveries; they are tried at once", (ctx, t, s) => release(ctx.pool, t, new Date(), s)),
  delete: action("delete", "remove deliveries from the queue; --bounce tells the sender with a DSN", (ctx, t, s) =>
    deleteQueued(ctx.pool, t, { bounce: ctx.flags.bounce === true }, new Date(), s),
  ),
};

function age(since: Date): string {
  const s = Math.max(0, Math.round((Date.now() - since.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
