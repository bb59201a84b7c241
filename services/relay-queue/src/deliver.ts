import { withTransaction, type Pool, type Queryable } from "@correo/db";
import type { DeliveryRemote } from "@correo/contracts";
import { fromDomain, signMessage, type SigningKey } from "@correo/dkim";
import { getBlob, recordOutcomes, toDelivery, transition, type Clock, type Delivery, type DeliveryRow, type Outcome } from "@correo/spool";
import { counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { deferUntil, type BackoffPolicy, type Random } from "./backoff.js";
import type { Verdict } from "./classify.js";
import { destinationAnswered, destinationFailed } from "./destinations.js";
import type { NextHop } from "./route-policy.js";
import type { RetrySchedule } from "./schedule.js";
import type { DestinationSlots } from "./slots.js";
import type { SmtpSender } from "./smtp-client.js";

export interface RelayPolicy extends BackoffPolicy {
  /** RELAY_MAX_LIFETIME: how long after acceptance a delivery is still retried. */
  maxLifetimeMs: number;
  connectTimeoutMs: number;
  /** EHLO name (CORREO_HOSTNAME). */
  heloName: string;
  /** How long one attempt may hold its deliveries before another may try them. */
  attemptLeaseMs: number;
  /** RELAY_DESTINATION_CONCURRENCY: SMTP transactions at once per destination, over all copies. */
  destinationConcurrency: number;
  /** RELAY_PARK_AFTER: attempts in a row on which no host answered before a destination is parked. */
  parkAfterFailures: number;
}

export interface RelayDeps {
  pool: Pool;
  clock: Clock;
  schedule: RetrySchedule;
  /** Connection slots per destination, over all copies, with a local waiting room. */
  slots: DestinationSlots;
  /** The route to `domain` and the TLS policy and AUTH towards it (route-policy.ts). */
  nextHop(domain: string): Promise<NextHop>;
  send: SmtpSender;
  /** The DKIM key of a sender domain, when it has one. */
  signingKey?(domain: string): Promise<SigningKey | undefined>;
  policy: RelayPolicy;
  random: Random;
  log: Logger;
}

type FinalOutcome = "delivered" | "bounced" | "expired";

const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");
const throttled = () => counter(metricNames.relayThrottled, "Remote deliveries put back because their destination had no free connection slot");
const parked = () => counter(metricNames.relayDestinationsParked, "Destinations parked after hosts stopped answering");

/** How soon a delivery put back for lack of a connection slot comes again (plus jitter). */
const THROTTLE_RETRY_MS = 1000;

/**
 * One delivery attempt for the recipients of a delivery.remote event: resolve the next
 * hop, one SMTP transaction, one state change per recipient. Idempotent: a delivery
 * already final, deferred but not yet due, held, or leased by another attempt is
 * skipped, so a redelivered or re-published event never sends twice what was delivered.
 */
export async function deliverRemote(deps: RelayDeps, event: DeliveryRemote): Promise<void> {
  const leased = await deps.schedule.lease(event.deliveries.map((d) => d.deliveryId), deps.policy.attemptLeaseMs);
  if (leased.length === 0) return;
  let releaseSlot: (() => Promise<void>) | undefined;
  try {
    const started = deps.clock.now();
    const { due, acceptedAt, parkedUntil, destinationHealthy } = await claim(deps, event.domain, leased, started);
    if (due.length === 0) return;
    const lifetimeEnd = new Date(acceptedAt.getTime() + deps.policy.maxLifetimeMs);

    if (parkedUntil) {
      // A dead destination: wait with the others for the end of the parking, no attempt.
      const reply = `4.4.1 destination ${event.domain} parked until ${parkedUntil.toISOString()}: its hosts do not answer`;
      await finish(deps, event, acceptedAt, await putBack(deps, due, parkedUntil, lifetimeEnd, started, reply));
      return;
    }
    releaseSlot = await deps.slots.acquire(event.domain, deps.policy.destinationConcurrency, () => deps.clock.now(), deps.policy.attemptLeaseMs);
    if (!releaseSlot) {
      throttled().add(due.length);
      const soon = new Date(started.getTime() + THROTTLE_RETRY_MS + Math.round(deps.random() * THROTTLE_RETRY_MS));
      await finish(deps, event, acceptedAt, await putBack(deps, due, soon, lifetimeEnd, started));
      return;
    }

    const { verdicts, answered, failure, host } = await attempt(deps, event, due);
    const finished = deps.clock.now();
    const outcomes = outcomesOf(deps, due, verdicts, finished, lifetimeEnd);
    // The common case (a live destination stays live) is one statement; a change of the
    // destination's health goes in the same transaction as the outcomes.
    const recorded =
      answered && destinationHealthy
        ? await record(deps.pool, outcomes, finished, host)
        : await withTransaction(deps.pool, async (db) => {
            const out = await record(db, outcomes, finished, host);
            if (answered) await destinationAnswered(db, event.domain, finished);
            else {
              const until = await destinationFailed(db, event.domain, failure, finished, deps.policy.parkAfterFailures, deps.policy);
              if (until) {
                parked().add(1);
                deps.log.warn({ domain: event.domain, until: until.toISOString(), failure }, "destination parked: its hosts do not answer");
              }
            }
            return out;
          });
    await finish(deps, event, acceptedAt, recorded);
  } finally {
    await releaseSlot?.().catch(() => undefined);
    await deps.schedule.release(leased).catch(() => undefined);
  }
}

interface Recorded {
  id: string;
  state: FinalOutcome | "deferred";
  nextAttemptAt: Date | undefined;
}

/** Schedules the deferred outcomes, unschedules the final ones, counts and logs. */
async function finish(deps: RelayDeps, event: DeliveryRemote, acceptedAt: Date, outcomes: Recorded[]): Promise<void> {
  const deferred = outcomes.filter((o) => o.nextAttemptAt !== undefined);
  const final = outcomes.filter((o) => o.nextAttemptAt === undefined);
  // Redis is an index: if this fails, the reconciler re-adds from PostgreSQL.
  await deps.schedule
    .add(deferred.map((o) => ({ deliveryId: o.id, dueAt: o.nextAttemptAt! })))
    .catch((err: Error) => deps.log.warn({ err: err.message }, "retry schedule not updated; the reconciler will"));
  await deps.schedule.remove(final.map((o) => o.id)).catch(() => undefined);
  const now = deps.clock.now();
  for (const o of final) {
    completed().add(1, { outcome: o.state, route: "remote" });
    if (o.state === "delivered") deliveryLatency().record((now.getTime() - acceptedAt.getTime()) / 1000, { route: "remote" });
  }
  deps.log.info({ messageId: event.messageId, domain: event.domain, outcomes: outcomes.map((o) => o.state) }, "remote delivery attempt done");
}

/**
 * Keeps the deliveries this attempt may make: remote, not final, not held, and routed
 * (never tried) or deferred and due. Their next action time moves to the end of the
 * lease, so that neither routing's re-drive nor the reconciler brings them back
 * mid-attempt, and an attempt that dies is retried once the lease is over (nothing
 * stuck out of sight). Also says when the message was accepted and whether the
 * destination is parked. One statement: the UPDATE takes the row locks, and a copy that
 * waited on them sees the moved next action time.
 */
async function claim(
  deps: RelayDeps,
  domain: string,
  ids: string[],
  now: Date,
): Promise<{ due: Delivery[]; acceptedAt: Date; parkedUntil?: Date; destinationHealthy: boolean }> {
  const { rows } = await deps.pool.query<DeliveryRow & { accepted_at: Date; dest_failures: number | null; dest_parked_until: Date | null }>(
    `WITH claimed AS (
       UPDATE deliveries SET next_attempt_at = $3
        WHERE id = ANY($1::uuid[]) AND held_at IS NULL AND route = 'remote'
          AND (state = 'routed' OR (state = 'deferred' AND next_attempt_at <= $2))
       RETURNING *
     )
     SELECT c.*, m.created_at AS accepted_at, d.failures AS dest_failures, d.parked_until AS dest_parked_until
       FROM claimed c
       JOIN messages m ON m.id = c.message_id
       LEFT JOIN relay_destinations d ON d.domain = $4
      ORDER BY c.recipient`,
    [ids, now, new Date(now.getTime() + deps.policy.attemptLeaseMs), domain],
  );
  const first = rows[0];
  if (!first) return { due: [], acceptedAt: now, destinationHealthy: true };
  const due = rows.map(toDelivery);
  const parkedUntil = first.dest_parked_until && first.dest_parked_until.getTime() > now.getTime() ? first.dest_parked_until : undefined;
  // No failures on record: a successful attempt has nothing to reset.
  const destinationHealthy = !first.dest_failures && first.dest_parked_until === null;
  return parkedUntil
    ? { due, acceptedAt: first.accepted_at, parkedUntil, destinationHealthy }
    : { due, acceptedAt: first.accepted_at, destinationHealthy };
}

/**
 * Defers deliveries without an attempt (parked destination, no free slot): no attempt is
 * counted and the last reply is kept unless `reply` says why; past the lifetime they expire.
 */
async function putBack(deps: RelayDeps, due: Delivery[], until: Date, lifetimeEnd: Date, now: Date, reply?: string): Promise<Recorded[]> {
  return withTransaction(deps.pool, async (db) => {
    const out: Recorded[] = [];
    for (const d of due) {
      if (now.getTime() >= lifetimeEnd.getTime()) {
        const last = reply ?? d.lastResponse ?? "4.4.7 no attempt possible";
        const response = `5.4.7 delivery time expired after ${d.attempts} attempts; last: ${last}`;
        if (await transition(db, d.id, { state: "expired", event: "expired", at: now, response })) {
          out.push({ id: d.id, state: "expired", nextAttemptAt: undefined });
        }
        continue;
      }
      const next = new Date(Math.min(until.getTime(), lifetimeEnd.getTime()));
      const { rowCount } = await db.query(
        `UPDATE deliveries SET state = 'deferred', next_attempt_at = $2, last_response = coalesce($3, last_response), updated_at = $4
          WHERE id = $1 AND state IN ('routed', 'deferred')`,
        [d.id, next, reply ?? null, now],
      );
      if (rowCount) out.push({ id: d.id, state: "deferred", nextAttemptAt: next });
    }
    return out;
  });
}

interface AttemptResult {
  verdicts: Map<string, Verdict>;
  /** Whether a host took part (any reply); false when none answered or DNS failed. */
  answered: boolean;
  /** Why no host answered, for the destination's record. */
  failure: string;
  host?: string;
}

async function attempt(deps: RelayDeps, event: DeliveryRemote, due: Delivery[]): Promise<AttemptResult> {
  const all = (v: Verdict) => new Map(due.map((d) => [d.recipient, v]));
  const { route, hop } = await deps.nextHop(event.domain);
  if (route.kind === "bounce") return { verdicts: all({ outcome: "bounced", reply: route.reply }), answered: true, failure: "" };
  if (route.kind === "defer") return { verdicts: all({ outcome: "deferred", reply: route.reply }), answered: false, failure: route.reply };
  const stored = await getBlob(deps.pool, event.blobId);
  if (!stored) throw new Error(`blob ${event.blobId} of message ${event.messageId} is missing from the spool`);
  const raw = await sign(deps, event, stored);
  const result = await deps.send({
    targets: route.targets,
    envelopeFrom: event.envelopeFrom,
    recipients: due.map((d) => d.recipient),
    raw,
    heloName: deps.policy.heloName,
    connectTimeoutMs: deps.policy.connectTimeoutMs,
    hop,
  });
  const failure = result.host === undefined ? ([...result.verdicts.values()][0]?.reply ?? "no host answered") : "";
  return { verdicts: result.verdicts, answered: result.host !== undefined, failure, ...(result.host ? { host: result.host } : {}) };
}

/** DKIM-signs mail from a hosted domain that has a key (RFC 6376); unsigned when it has none. */
async function sign(deps: RelayDeps, event: DeliveryRemote, raw: Buffer): Promise<Buffer> {
  if (!deps.signingKey) return raw;
  const domain = fromDomain(raw) ?? event.envelopeFrom.split("@")[1]?.toLowerCase();
  if (!domain) return raw;
  const key = await deps.signingKey(domain);
  if (!key) return raw;
  try {
    return await signMessage(raw, key, deps.clock.now());
  } catch (err) {
    // A broken key must not stop the mail: it goes unsigned and the log says why.
    deps.log.error({ err: (err as Error).message, domain }, "DKIM signing failed; sending unsigned");
    return raw;
  }
}

/** What each recipient's verdict means now: its state, reply and next attempt. */
function outcomesOf(deps: RelayDeps, due: Delivery[], verdicts: Map<string, Verdict>, now: Date, lifetimeEnd: Date): Outcome[] {
  return due.map((d) => {
    const v = verdicts.get(d.recipient) ?? { outcome: "deferred", reply: "4.4.0 no result for this recipient" };
    if (v.outcome !== "deferred") return { deliveryId: d.id, state: v.outcome, response: v.reply };
    const attempts = d.attempts + 1;
    if (now.getTime() >= lifetimeEnd.getTime()) {
      // RFC 5321 §4.5.4.1: give up after the lifetime; RFC 3463 X.4.7 delivery time expired.
      return { deliveryId: d.id, state: "expired", response: `5.4.7 delivery time expired after ${attempts} attempts; last: ${v.reply}` };
    }
    const next = deferUntil(now, attempts, lifetimeEnd, deps.policy, deps.random, v.reply);
    return { deliveryId: d.id, state: "deferred", response: v.reply, nextAttemptAt: next };
  });
}

/** Records the outcomes (RFC 3464 Remote-MTA: the host that gave the replies). */
async function record(db: Queryable, outcomes: Outcome[], now: Date, host: string | undefined): Promise<Recorded[]> {
  const moved = await recordOutcomes(db, outcomes, now, host);
  return outcomes
    .filter((o) => moved.has(o.deliveryId))
    .map((o) => ({ id: o.deliveryId, state: o.state as Recorded["state"], nextAttemptAt: o.nextAttemptAt }));
}
