import { withTransaction, type Pool } from "@correo/db";
import type { DeliveryRemote } from "@correo/contracts";
import { getBlob, loadDeliveries, loadMessage, postpone, transition, type Clock, type Delivery } from "@correo/spool";
import { counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { nextAttemptAt, type BackoffPolicy, type Random } from "./backoff.js";
import type { Verdict } from "./classify.js";
import type { Route } from "./mx-resolver.js";
import type { RetrySchedule } from "./schedule.js";
import type { SmtpSender } from "./smtp-client.js";

export interface RelayPolicy extends BackoffPolicy {
  /** RELAY_MAX_LIFETIME: how long after acceptance a delivery is still retried. */
  maxLifetimeMs: number;
  connectTimeoutMs: number;
  /** EHLO name (CORREO_HOSTNAME). */
  heloName: string;
  /** How long one attempt may hold its deliveries before another may try them. */
  attemptLeaseMs: number;
}

export interface RelayDeps {
  pool: Pool;
  clock: Clock;
  schedule: RetrySchedule;
  route(domain: string): Promise<Route>;
  send: SmtpSender;
  policy: RelayPolicy;
  random: Random;
  log: Logger;
}

type FinalOutcome = "delivered" | "bounced" | "expired";

const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");

/**
 * One delivery attempt for the recipients of a delivery.remote event: resolve the next
 * hop, one SMTP transaction, one state change per recipient. Idempotent: a delivery
 * already final, deferred but not yet due, or leased by another attempt is skipped, so a
 * redelivered or re-published event never sends twice what was delivered.
 */
export async function deliverRemote(deps: RelayDeps, event: DeliveryRemote): Promise<void> {
  const message = await loadMessage(deps.pool, event.messageId);
  if (!message) {
    deps.log.warn({ messageId: event.messageId }, "delivery.remote for a message no longer in the spool; ignored");
    return;
  }
  const leased = await deps.schedule.lease(event.deliveries.map((d) => d.deliveryId), deps.policy.attemptLeaseMs);
  if (leased.length === 0) return;
  try {
    const started = deps.clock.now();
    const due = await claim(deps, leased, started);
    if (due.length === 0) return;

    const verdicts = await attempt(deps, event, due);
    const finished = deps.clock.now();
    const lifetimeEnd = new Date(message.createdAt.getTime() + deps.policy.maxLifetimeMs);
    const outcomes = await record(deps, due, verdicts, finished, lifetimeEnd);

    const deferred = outcomes.filter((o) => o.nextAttemptAt !== undefined);
    const final = outcomes.filter((o) => o.nextAttemptAt === undefined);
    // Redis is an index: if this fails, the reconciler re-adds from PostgreSQL.
    await deps.schedule
      .add(deferred.map((o) => ({ deliveryId: o.id, dueAt: o.nextAttemptAt! })))
      .catch((err: Error) => deps.log.warn({ err: err.message }, "retry schedule not updated; the reconciler will"));
    await deps.schedule.remove(final.map((o) => o.id)).catch(() => undefined);

    for (const o of final) {
      completed().add(1, { outcome: o.state, route: "remote" });
      if (o.state === "delivered") {
        deliveryLatency().record((finished.getTime() - message.createdAt.getTime()) / 1000, { route: "remote" });
      }
    }
    deps.log.info(
      { messageId: event.messageId, domain: event.domain, outcomes: outcomes.map((o) => o.state) },
      "remote delivery attempt done",
    );
  } finally {
    await deps.schedule.release(leased).catch(() => undefined);
  }
}

/**
 * Keeps the deliveries this attempt may make: remote, not final, and routed (never
 * tried) or deferred and due. Their next action time moves to the end of the lease, so
 * that neither routing's re-drive nor the reconciler brings them back mid-attempt, and
 * an attempt that dies is retried once the lease is over (nothing stuck out of sight).
 */
async function claim(deps: RelayDeps, ids: string[], now: Date): Promise<Delivery[]> {
  return withTransaction(deps.pool, async (db) => {
    await db.query("SELECT 1 FROM deliveries WHERE id = ANY($1::uuid[]) FOR UPDATE", [ids]);
    const due = (await loadDeliveries(db, ids)).filter(
      (d) =>
        d.route === "remote" &&
        (d.state === "routed" || (d.state === "deferred" && d.nextAttemptAt !== null && d.nextAttemptAt.getTime() <= now.getTime())),
    );
    await postpone(db, due.map((d) => d.id), new Date(now.getTime() + deps.policy.attemptLeaseMs));
    return due;
  });
}

async function attempt(deps: RelayDeps, event: DeliveryRemote, due: Delivery[]): Promise<Map<string, Verdict>> {
  const all = (v: Verdict) => new Map(due.map((d) => [d.recipient, v]));
  const route = await deps.route(event.domain);
  if (route.kind === "bounce") return all({ outcome: "bounced", reply: route.reply });
  if (route.kind === "defer") return all({ outcome: "deferred", reply: route.reply });
  const raw = await getBlob(deps.pool, event.blobId);
  if (!raw) throw new Error(`blob ${event.blobId} of message ${event.messageId} is missing from the spool`);
  const result = await deps.send({
    targets: route.targets,
    envelopeFrom: event.envelopeFrom,
    recipients: due.map((d) => d.recipient),
    raw,
    heloName: deps.policy.heloName,
    connectTimeoutMs: deps.policy.connectTimeoutMs,
  });
  return result.verdicts;
}

interface Recorded {
  id: string;
  state: FinalOutcome | "deferred";
  nextAttemptAt: Date | undefined;
}

async function record(
  deps: RelayDeps,
  due: Delivery[],
  verdicts: Map<string, Verdict>,
  now: Date,
  lifetimeEnd: Date,
): Promise<Recorded[]> {
  return withTransaction(deps.pool, async (db) => {
    const out: Recorded[] = [];
    for (const d of due) {
      const v = verdicts.get(d.recipient) ?? { outcome: "deferred", reply: "4.4.0 no result for this recipient" };
      const attempts = d.attempts + 1;
      let state: Recorded["state"] = v.outcome;
      let response = v.reply;
      let next: Date | undefined;
      if (v.outcome === "deferred") {
        if (now.getTime() >= lifetimeEnd.getTime()) {
          // RFC 5321 §4.5.4.1: give up after the lifetime; RFC 3463 X.4.7 delivery time expired.
          state = "expired";
          response = `5.4.7 delivery time expired after ${attempts} attempts; last: ${v.reply}`;
        } else {
          next = nextAttemptAt(now, attempts, lifetimeEnd, deps.policy, deps.random);
        }
      }
      const changed = await transition(db, d.id, {
        state,
        event: state,
        at: now,
        response,
        countAttempt: true,
        ...(next ? { nextAttemptAt: next } : {}),
      });
      if (changed) out.push({ id: d.id, state, nextAttemptAt: next });
    }
    return out;
  });
}
