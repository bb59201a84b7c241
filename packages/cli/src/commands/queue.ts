import { Redis } from "ioredis";
import { infraSpec, loadConfig, parseDuration } from "@correo/config";
import { DirectoryError } from "@correo/directory";
import {
  deleteQueued,
  deliveryDetailDoc,
  hold,
  listQueue,
  queuedDoc,
  release,
  retryNow,
  RetrySchedule,
  showDelivery,
  type QueueFilter,
  type Target,
} from "@correo/queue";
import { InfraUnreachableError, redact } from "@correo/runtime";
import { table } from "../output.js";
import { flag, UsageError, type Command, type CommandContext, type FlagSpec } from "./types.js";

/**
 * `correo queue …`: the relay's queue (remote deliveries not yet final), after Postfix's
 * mailq / postqueue -f / postsuper -h -H -d. PostgreSQL holds the queue; the Redis
 * schedule is only where relay-queue takes due retries from. So:
 * Redis unreachable is an error (exit 69) for every verb, after it has done what
 * PostgreSQL alone can:
 * - list and show print what PostgreSQL holds and warn that no retry is attempted
 *   until Redis is back, whatever "next" says;
 * - retry and release need Redis — making a delivery due means putting it in the
 *   schedule — and change nothing;
 * - hold and delete are complete in PostgreSQL (relay-queue re-reads each delivery
 *   before an attempt and skips held and deleted ones), and say so.
 */

function target(ctx: CommandContext): Target {
  const domain = flag(ctx, "domain");
  const id = ctx.args[0];
  if (domain && id) throw new UsageError("give a delivery id or --domain, not both");
  if (domain) return { domain };
  if (!id) throw new UsageError("missing <delivery-id> (or --domain <domain>)");
  return { deliveryId: id };
}

interface Schedule {
  schedule: RetrySchedule;
  close(): void;
}

/** The retry schedule, when Redis answers within a second; else why not. */
async function openSchedule(): Promise<Schedule | InfraUnreachableError> {
  const config = loadConfig({ redisUrl: infraSpec.redisUrl, prefix: infraSpec.prefix });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let socketError: (Error & { code?: string }) | undefined;
  redis.on("error", (err: Error) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    return { schedule: new RetrySchedule(redis, config.prefix), close: () => redis.disconnect() };
  } catch (err) {
    redis.disconnect();
    const e = socketError ?? (err as Error & { code?: string });
    return new InfraUnreachableError("Redis", config.redisUrl, e.code ?? e.message);
  }
}

/** What is true of the output when the schedule cannot be reached, per kind of verb. */
const WITHOUT_SCHEDULE = {
  read: "this is what PostgreSQL (the queue itself) holds",
  change: "the change is in PostgreSQL, which relay-queue reads before every attempt (held and deleted deliveries are skipped)",
};

const unscheduled = (err: InfraUnreachableError, kind: keyof typeof WITHOUT_SCHEDULE) =>
  `correo: warning: ${err.infra} is unreachable at ${redact(err.url)} (${err.reason}): ` +
  `relay-queue takes due retries from its schedule there, so none is attempted until it is back; ${WITHOUT_SCHEDULE[kind]}.\n`;

/**
 * Runs `fn` with the schedule when Redis answers, else without it: PostgreSQL alone
 * serves the verb, the warning says what that means, and the command exits 69 (an
 * unreachable dependency is an error, here as everywhere in the CLI) after printing.
 */
async function pgOnly<T>(kind: keyof typeof WITHOUT_SCHEDULE, fn: (schedule: RetrySchedule | undefined) => Promise<T>): Promise<{ result: T; exitCode: number }> {
  const s = await openSchedule();
  if (s instanceof InfraUnreachableError) {
    const result = await fn(undefined);
    process.stderr.write(unscheduled(s, kind));
    return { result, exitCode: 69 };
  }
  try {
    return { result: await fn(s.schedule), exitCode: 0 };
  } finally {
    s.close();
  }
}

const targetFlags: Record<string, FlagSpec> = {
  domain: { type: "string", value: "<domain>", help: "every queued delivery to this recipient domain, instead of one <delivery-id>" },
};

function action(
  verb: "retry" | "hold" | "release" | "delete",
  summary: string,
  needsSchedule: boolean,
  run: (ctx: CommandContext, t: Target, s: RetrySchedule | undefined) => Promise<string[]>,
): Command {
  const flags: Record<string, FlagSpec> = verb === "delete" ? { ...targetFlags, bounce: { type: "boolean", help: "send the sender a DSN (default: silent, as postsuper -d)" } } : targetFlags;
  return {
    usage: `queue ${verb} (<delivery-id> | --domain <domain>)${verb === "delete" ? " [--bounce]" : ""}`,
    summary,
    flags,
    async run(ctx) {
      const t = target(ctx);
      let ids: string[];
      let exitCode = 0;
      if (needsSchedule) {
        const s = await openSchedule();
        if (s instanceof InfraUnreachableError) {
          throw new InfraUnreachableError(s.infra, s.url, `${s.reason}; nothing was changed: a delivery is made due in the Redis schedule relay-queue takes retries from`);
        }
        try {
          ids = await run(ctx, t, s.schedule);
        } finally {
          s.close();
        }
      } else {
        ({ result: ids, exitCode } = await pgOnly("change", (s) => run(ctx, t, s)));
      }
      const done = { retry: "due now", hold: "held", release: "released", delete: "deleted" }[verb];
      // The same document as POST /v1/admin/queue/{verb}.
      ctx.out.result({ deliveries: ids }, () => `${ids.length} deliver${ids.length === 1 ? "y" : "ies"} ${done}\n`);
      return exitCode;
    },
  };
}

export const queueCommands: Record<string, Command> = {
  list: {
    usage: "queue list [--domain <d>] [--older-than <2h>] [--reason <text>] [--held | --all]",
    summary: "list deferred remote deliveries, oldest first",
    flags: {
      domain: { type: "string", value: "<domain>", help: "only deliveries to this recipient domain" },
      "older-than": { type: "string", value: "<duration>", help: "only deliveries accepted at least this long ago: 90s, 15m, 2h, 5d" },
      reason: { type: "string", value: "<text>", help: "only deliveries whose last reply contains this, e.g. 4.4.1 or greylist" },
      held: { type: "boolean", help: "only held deliveries" },
      all: { type: "boolean", help: "held and not held" },
    },
    async run(ctx) {
      const filter: QueueFilter = { held: ctx.flags.held === true ? "only" : ctx.flags.all === true ? "any" : "no" };
      const domain = flag(ctx, "domain");
      const reason = flag(ctx, "reason");
      const older = flag(ctx, "older-than");
      if (domain) filter.domain = domain;
      if (reason) filter.reason = reason;
      if (older) {
        const ms = parseDuration(older);
        if (ms === undefined) throw new UsageError(`--older-than must be a duration like 90s, 15m, 2h or 5d, got '${older}'`);
        filter.olderThanMs = ms;
      }
      const { result: queue, exitCode } = await pgOnly("read", () => listQueue(ctx.pool, filter, new Date()));
      ctx.out.result({ queue: queue.map(queuedDoc) }, () =>
        table(
          queue.map((d) => ({ ...d, age: age(d.createdAt), next: d.held ? "held" : d.nextAttemptAt })),
          ["id", "recipient", "envelopeFrom", "age", "attempts", "next", "lastResponse"],
        ),
      );
      return exitCode;
    },
  },
  show: {
    usage: "queue show <delivery-id>",
    summary: "one delivery with its attempts and replies",
    flags: {},
    async run(ctx) {
      const id = ctx.args[0];
      if (!id) throw new UsageError("missing <delivery-id>");
      const { result: delivery, exitCode } = await pgOnly("read", () => showDelivery(ctx.pool, id));
      if (!delivery) throw new DirectoryError("not_found", `no delivery ${id}`);
      ctx.out.result({ delivery: deliveryDetailDoc(delivery) }, () =>
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
      return exitCode;
    },
  },
  retry: action("retry", "try deferred deliveries now (one, or every one of a domain); needs Redis", true, (ctx, t, s) => retryNow(ctx.pool, t, new Date(), s)),
  hold: action("hold", "keep deliveries in the queue without trying them", false, (ctx, t, s) => hold(ctx.pool, t, new Date(), s)),
  release: action("release", "release held deliveries; they are tried at once; needs Redis", true, (ctx, t, s) => release(ctx.pool, t, new Date(), s)),
  delete: action("delete", "remove deliveries from the queue; --bounce tells the sender with a DSN", false, (ctx, t, s) =>
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
