import { withTransaction, type Pool, type Queryable } from "@correo/db";
import type { DeliveryRemote } from "@correo/contracts";
import { fromDomain, signMessage, type SigningKey } from "@correo/dkim";
import type { Route } from "@correo/mx";
import { getBlob, loadDeliveries, loadMessage, postpone, transition, type Clock, type Delivery } from "@correo/spool";
import { counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { deferUntil, type BackoffPolicy, type Random } from "./backoff.js";
import type { Verdict } from "./classify.js";
import { destinationAnswered, destinationFailed, destinationState } from "./destinations.js";
import type { RetrySchedule } from "./schedule.js";
import type { HopPolicy, SmtpSender } from "./smtp-client.js";

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
  route(domain: string): Promise<Route>;
  send: SmtpSender;
  /** The DKIM key of a sender domain, when it has one. */
  signingKey?(domain: string): Promise<SigningKey | undefined>;
  /** TLS policy and AUTH towards the next hop of `domain` (its transport override's). */
  hopPolicy?(domain: string): Promise<HopPolicy>;
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
  const message = await loadMessage(deps.pool, event.messageId);
  if (!message) {
    deps.log.warn({ messageId: event.messageId }, "delivery.remote for a message no longer in the spool; ignored");
    return;
  }
  const leased = await deps.schedule.lease(event.deliveries.map((d) => d.deliveryId), deps.policy.attemptLeaseMs);
  if (leased.length === 0) return;
  let releaseSlot: (() => Promise<void>) | undefined;
  try {
    const started = deps.clock.now();
    const lifetimeEnd = new Date(message.createdAt.getTime() + deps.policy.maxLifetimeMs);
    const { due, parkedUntil, destinationHealthy } = await claim(deps, event.domain, leased, started);
    if (due.length === 0) return;

    if (parkedUntil) {
      // A dead destination: wait with the others for the end of the parking, no attempt.
      const reply = `4.4.1 destination ${event.domain} parked until ${parkedUntil.toISOString()}: its hosts do not answer`;
      await finish(deps, event, message.createdAt, await putBack(deps, due, parkedUntil, lifetimeEnd, started, reply));
      return;
    }
    releaseSlot = await deps.schedule.acquireSlot(event.domain, deps.policy.destinationConcurrency, started, deps.policy.attemptLeaseMs);
    if (!releaseSlot) {
      throttled().add(due.length);
      const soon = new Date(started.getTime() + THROTTLE_RETRY_MS + Math.round(deps.random() * THROTTLE_RETRY_MS));
      await finish(deps, event, message.createdAt, await putBack(deps, due, soon, lifetimeEnd, started));
      return;
    }

    const { verdicts, answered, failure, host } = await attempt(deps, event, due);
    const finished = deps.clock.now();
    const outcomes = await withTransaction(deps.pool, async (db) => {
      const out = await record(db, deps, due, verdicts, host, finished, lifetimeEnd);
      if (answered) {
        if (!destinationHealthy) await destinationAnswered(db, event.domain, finished);
      }
      else {
        const until = await destinationFailed(db, event.domain, failure, finished, deps.policy.parkAfterFailures, deps.policy);
        if (until) {
          parked().add(1);
          deps.log.warn({ domain: event.domain, until: until.toISOString(), failure }, "destination parked: its hosts do not answer");
        }
      }
      return out;
    });
    await finish(deps, event, message.createdAt, outcomes);
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
 * stuck out of sight). Also says whether the destination is parked.
 */
async function claim(
  deps: RelayDeps,
  domain: string,
  ids: string[],
  now: Date,
): Promise<{ due: Delivery[]; parkedUntil?: Date; destinationHealthy: boolean }> {
  return withTransaction(deps.pool, async (db) => {
    const { rows } = await db.query<{ id: string }>(
      "SELECT id FROM deliveries WHERE id = ANY($1::uuid[]) AND held_at IS NULL FOR UPDATE",
      [ids],
    );
    const due = (await loadDeliveries(db, rows.map((r) => r.id))).filter(
      (d) =>
        d.route === "remote" &&
        (d.state === "routed" || (d.state === "deferred" && d.nextAttemptAt !== null && d.nextAttemptAt.getTime() <= now.getTime())),
    );
    await postpone(db, due.map((d) => d.id), new Date(now.getTime() + deps.policy.attemptLeaseMs));
    const state = due.length > 0 ? await destinationState(db, domain) : undefined;
    const parkedUntil = state?.parkedUntil && state.parkedUntil.getTime() > now.getTime() ? state.parkedUntil : undefined;
    // No failures on record: a successful attempt has nothing to reset.
    const destinationHealthy = !state || (state.failures === 0 && state.parkedUntil === null);
    return parkedUntil ? { due, parkedUntil, destinationHealthy } : { due, destinationHealthy };
  });
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
  const route = await deps.route(event.domain);
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
    ...(deps.hopPolicy ? { hop: await deps.hopPolicy(event.domain) } : {}),
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

async function record(
  db: Queryable,
  deps: RelayDeps,
  due: Delivery[],
  verdicts: Map<string, Verdict>,
  host: string | undefined,
  now: Date,
  lifetimeEnd: Date,
): Promise<Recorded[]> {
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
        next = deferUntil(now, attempts, lifetimeEnd, deps.policy, deps.random, v.reply);
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
    if (!changed) continue;
    // RFC 3464 Remote-MTA: the host that gave this reply.
    if (host) await db.query("UPDATE deliveries SET remote_mta = $2 WHERE id = $1", [d.id, host]);
    out.push({ id: d.id, state, nextAttemptAt: next });
  }
  return out;
}
