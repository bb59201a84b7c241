import { withTransaction, type Pool, type Queryable } from "@correo/db";
import type { DeliveryRemote } from "@correo/contracts";
import { fromDomain, sealForwarded, signMessage, type SigningKey, type TxtResolver } from "@correo/dkim";
import { normalizeDomain, parseAddress, type Transport } from "@correo/directory";
import { recordOutcomes, toDelivery, transition, type Clock, type Delivery, type DeliveryRow, type Outcome } from "@correo/spool";
import { atZero, counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { afterFailure, type BackoffPolicy, type Random } from "@correo/queue";
import { classifyBounce, suppressHardBounces } from "@correo/suppression";
import type { Verdict } from "./classify.js";
import { destinationAnswered, destinationFailed } from "./destinations.js";
import type { AttemptLeases } from "./leases.js";
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
  /**
   * RELAY_ATTEMPT_LEASE: how long an attempt holds its deliveries (and its connection slot)
   * unless its copy renews them (`RelayDeps.leases`); a dead copy's are free within it.
   */
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
  slots: Pick<DestinationSlots, "acquire">;
  /**
   * Renews the leases (and slots) of this copy's attempts while they run. Without it, an
   * attempt holds its deliveries for one lease only, so the lease must outlast any attempt.
   */
  leases?: AttemptLeases;
  /** The route to `domain` and the TLS policy and AUTH towards it, given its transport override (route-policy.ts). */
  nextHop(domain: string, transport: Transport | undefined): Promise<NextHop>;
  send: SmtpSender;
  /** The DKIM key of a sender domain, when it has one. */
  signingKey?(domain: string): Promise<SigningKey | undefined>;
  policy: RelayPolicy;
  random: Random;
  /**
   * ARC sealing of mail an alias forwards (deliveries with an SRS sender of their own):
   * AUTHSERV_ID, whose Authentication-Results the seal repeats, and the DNS that checks
   * the chain already in the message. Unset: forwarded mail goes out unsealed.
   */
  arc?: { authservId: string; resolver: TxtResolver };
  log: Logger;
}

type FinalOutcome = "delivered" | "bounced" | "expired";

const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");
const throttled = () => counter(metricNames.relayThrottled, "Remote deliveries put back because their destination had no free connection slot");
const parked = () => counter(metricNames.relayDestinationsParked, "Destinations parked after hosts stopped answering");
const arcSeals = () => counter(metricNames.arcSeals, "Forwarded messages ARC-sealed, or sent unsealed, by outcome");

/** This module's counters at 0 for the outcomes it records (see atZero). */
export function remoteDeliveryMetricsAtZero(): void {
  const outcomes: FinalOutcome[] = ["delivered", "bounced", "expired"];
  atZero(completed(), outcomes.map((outcome) => ({ outcome, route: "remote" })));
  atZero(throttled());
  atZero(parked());
  atZero(arcSeals(), ["sealed", "no-key", "chain-failed", "error"].map((outcome) => ({ outcome })));
}

/** How soon a delivery put back for lack of a connection slot comes again (plus jitter). */
const THROTTLE_RETRY_MS = 1000;

/**
 * One delivery attempt for the recipients of a delivery.remote event: resolve the next
 * hop, one SMTP transaction, one state change per recipient. Idempotent: a delivery
 * already final, deferred but not yet due, held, or leased by another attempt is
 * skipped, so a redelivered or re-published event never sends twice what was delivered.
 *
 * The remote host's reply is recorded in PostgreSQL first thing after it arrives, before
 * the connection slot is released and before the schedule, metrics and logs; the broker
 * message is acked only after all of it. What remains of the at-least-once window (the
 * host said 250, this copy died before that one statement committed) is in
 * docs/reliability.md ("Relay window").
 */
export async function deliverRemote(deps: RelayDeps, event: DeliveryRemote): Promise<void> {
  const started = deps.clock.now();
  const claimed = await claim(deps, event, started);
  if (!claimed) return;
  const { due, acceptedAt, parkedUntil, destinationHealthy } = claimed;
  const lifetimeEnd = new Date(acceptedAt.getTime() + deps.policy.maxLifetimeMs);
  let releaseSlot: (() => Promise<void>) | undefined;
  let recorded: Recorded[];
  let attempted = false;
  // Renewed on a timer while the attempt runs (an attempt shorter than a third of the
  // lease is never renewed); stopped before the outcome is recorded.
  const lease = deps.leases?.begin(
    due.map((d) => d.id),
    claimed.leasedUntil,
  );
  const stopRenewing = async () => {
    if (lease) await deps.leases!.end(lease);
  };
  try {
    if (parkedUntil) {
      // A dead destination: wait with the others for the end of the parking, no attempt.
      const reply = `4.4.1 destination ${event.domain} parked until ${parkedUntil.toISOString()}: its hosts do not answer`;
      recorded = await putBack(deps, due, parkedUntil, lifetimeEnd, started, reply);
    } else if (!(releaseSlot = await deps.slots.acquire(event.domain, deps.policy.destinationConcurrency, () => deps.clock.now(), deps.policy.attemptLeaseMs))) {
      throttled().add(due.length);
      const soon = new Date(started.getTime() + THROTTLE_RETRY_MS + Math.round(deps.random() * THROTTLE_RETRY_MS));
      recorded = await putBack(deps, due, soon, lifetimeEnd, started);
    } else {
      attempted = true;
      const { verdicts, answered, failure, host } = await attempt(deps, event, claimed);
      await stopRenewing();
      const finished = deps.clock.now();
      const outcomes = outcomesOf(deps, due, verdicts, finished, lifetimeEnd);
      // The common case (a live destination stays live) is one statement; a change of the
      // destination's health goes in the same transaction as the outcomes.
      recorded =
        answered && destinationHealthy
          ? await record({ pool: deps.pool }, outcomes, finished, host)
          : await withTransaction(deps.pool, async (db) => {
              const out = await record({ tx: db }, outcomes, finished, host);
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
    }
  } catch (err) {
    // Failed before any SMTP (Redis or PostgreSQL away): give the lease back, so that the
    // broker's redelivery of this event may try again at once. After an attempt began, the
    // remote may have the message: the lease, no longer renewed, holds until it expires
    // (within one RELAY_ATTEMPT_LEASE), then the delivery is retried.
    await stopRenewing();
    if (!attempted) await releaseLeases(deps.pool, due, lease?.leasedUntil ?? claimed.leasedUntil).catch(() => undefined);
    throw err;
  } finally {
    await stopRenewing();
    await releaseSlot?.().catch(() => undefined);
  }
  await finish(deps, event, acceptedAt, recorded, claimed.scheduled);
}

interface Recorded {
  id: string;
  state: FinalOutcome | "deferred";
  nextAttemptAt: Date | undefined;
}

/** Schedules the deferred outcomes, unschedules the final ones, counts and logs. */
async function finish(deps: RelayDeps, event: DeliveryRemote, acceptedAt: Date, outcomes: Recorded[], scheduled: Set<string>): Promise<void> {
  const deferred = outcomes.filter((o) => o.nextAttemptAt !== undefined);
  const final = outcomes.filter((o) => o.nextAttemptAt === undefined);
  // Redis is an index: if this fails, the reconciler re-adds from PostgreSQL.
  await deps.schedule
    .add(deferred.map((o) => ({ deliveryId: o.id, dueAt: o.nextAttemptAt! })))
    .catch((err: Error) => deps.log.warn({ err: err.message }, "retry schedule not updated; the reconciler will"));
  // Only a delivery that was deferred before can have an entry left in the set (a first
  // attempt never had one); its claim usually took it out already.
  await deps.schedule.remove(final.filter((o) => scheduled.has(o.id)).map((o) => o.id)).catch(() => undefined);
  const now = deps.clock.now();
  for (const o of final) {
    completed().add(1, { outcome: o.state, route: "remote" });
    if (o.state === "delivered") deliveryLatency().record((now.getTime() - acceptedAt.getTime()) / 1000, { route: "remote" });
  }
  deps.log.info({ messageId: event.messageId, domain: event.domain, outcomes: outcomes.map((o) => o.state) }, "remote delivery attempt done");
}

/** What one claim found: the deliveries to try and everything their attempt needs. */
interface Claimed {
  due: Delivery[];
  acceptedAt: Date;
  parkedUntil?: Date;
  destinationHealthy: boolean;
  /** The lease taken on every row of `due`. */
  leasedUntil: Date;
  /** Ids of `due` that were deferred (and may still have an entry in the Redis schedule). */
  scheduled: Set<string>;
  /** The message as stored (the blob). */
  raw: Buffer | undefined;
  /** The transport override of the destination, if any (its own entry, else '*'). */
  transport: Transport | undefined;
  /** The DKIM key of the envelope sender's domain, if it has one. */
  senderKey: SigningKey | undefined;
  /**
   * Whether the message was submitted here (HTTP API, SMTP AUTH, our own DSNs) rather
   * than received at the MX from another server: only those are DKIM-signed.
   */
  submittedHere: boolean;
}

interface ClaimRow extends DeliveryRow {
  accepted_at: Date;
  dest_failures: number | null;
  dest_parked_until: Date | null;
  blob: Buffer | null;
  transport: { host: string; port: number; tls_policy: Transport["tlsPolicy"]; auth_username: string | null; auth_password: string | null } | null;
  sender_key: SigningKey | null;
  submitted_here: boolean;
  was_deferred: boolean;
}

/**
 * Keeps the deliveries this attempt may make: remote, not final, not held, not leased by
 * another attempt, and routed (never tried) or deferred and due. Each gets the attempt
 * lease (`leased_until`), and its next action time moves to the end of the lease, so that
 * neither routing's re-drive nor the reconciler brings it back mid-attempt, and an attempt
 * that dies is retried once the lease is over (nothing stuck out of sight). One statement:
 * the UPDATE takes the row locks, and a copy that waited on them sees the lease and skips
 * the row. The same statement reads what the attempt needs — when the message was
 * accepted, the destination's health, the message itself, the destination's transport
 * and the sender domain's DKIM key — so that a delivery costs two statements: this and
 * its outcome.
 */
async function claim(deps: RelayDeps, event: DeliveryRemote, now: Date): Promise<Claimed | undefined> {
  const leasedUntil = new Date(now.getTime() + deps.policy.attemptLeaseMs);
  const domain = normalizeDomain(event.domain) ?? event.domain;
  const senderDomain = parseAddress(event.envelopeFrom)?.domain ?? "";
  const { rows } = await deps.pool.query<ClaimRow>({
    // Named: prepared once per connection rather than parsed and planned per message.
    name: "relay.claim",
    text: `WITH claimed AS (
       UPDATE deliveries d SET next_attempt_at = $3, leased_until = $3
        WHERE d.id = ANY($1::uuid[]) AND d.held_at IS NULL AND d.route = 'remote'
          AND (d.state = 'routed' OR (d.state = 'deferred' AND d.next_attempt_at <= $2))
          AND (d.leased_until IS NULL OR d.leased_until <= $2)
          -- The event's MAIL FROM must be the delivery's: its own (SRS forwarding) or the message's.
          AND coalesce(d.envelope_from, (SELECT x.envelope_from FROM messages x WHERE x.id = d.message_id)) = $7
       RETURNING d.*, d.state = 'deferred' AS was_deferred
     ), ordered AS (
       SELECT c.*, row_number() OVER (ORDER BY c.recipient) AS n FROM claimed c
     )
     SELECT o.*, m.created_at AS accepted_at, (m.source <> 'smtp' OR m.account_id IS NOT NULL) AS submitted_here, dest.failures AS dest_failures, dest.parked_until AS dest_parked_until,
            CASE WHEN o.n = 1 THEN b.content END AS blob,
            CASE WHEN o.n = 1 THEN (SELECT json_build_object('host', t.host, 'port', t.port, 'tls_policy', t.tls_policy,
                                                              'auth_username', t.auth_username, 'auth_password', t.auth_password)
                                      FROM transports t WHERE t.domain = $4 OR t.domain = '*' ORDER BY t.domain = '*' LIMIT 1) END AS transport,
            CASE WHEN o.n = 1 THEN (SELECT json_build_object('domain', k.domain, 'selector', k.selector, 'privateKey', k.private_key)
                                      FROM dkim_keys k WHERE k.domain = $5) END AS sender_key
       FROM ordered o
       JOIN messages m ON m.id = o.message_id
       LEFT JOIN blobs b ON b.id = m.blob_id
       LEFT JOIN relay_destinations dest ON dest.domain = $6
      ORDER BY o.n`,
    values: [event.deliveries.map((d) => d.deliveryId), now, leasedUntil, domain, senderDomain, event.domain, event.envelopeFrom],
  });
  const first = rows[0];
  if (!first) return undefined;
  const parkedUntil = first.dest_parked_until && first.dest_parked_until.getTime() > now.getTime() ? first.dest_parked_until : undefined;
  const t = first.transport;
  return {
    due: rows.map(toDelivery),
    acceptedAt: first.accepted_at,
    ...(parkedUntil ? { parkedUntil } : {}),
    // No failures on record: a successful attempt has nothing to reset.
    destinationHealthy: !first.dest_failures && first.dest_parked_until === null,
    leasedUntil,
    scheduled: new Set(rows.filter((r) => r.was_deferred).map((r) => r.id)),
    raw: first.blob ?? undefined,
    transport: t
      ? {
          domain,
          host: t.host,
          port: t.port,
          tlsPolicy: t.tls_policy,
          auth: t.auth_username !== null && t.auth_password !== null ? { username: t.auth_username, password: t.auth_password } : null,
          createdAt: now,
        }
      : undefined,
    senderKey: first.sender_key ?? undefined,
    submittedHere: first.submitted_here,
  };
}

/**
 * Gives back the leases an attempt took, when it failed before recording anything: only
 * where the row still holds this attempt's lease (its latest renewal), never another's.
 */
async function releaseLeases(db: Queryable, due: Delivery[], leasedUntil: Date): Promise<void> {
  await db.query("UPDATE deliveries SET leased_until = NULL WHERE id = ANY($1::uuid[]) AND leased_until = $2", [due.map((d) => d.id), leasedUntil]);
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
        `UPDATE deliveries SET state = 'deferred', next_attempt_at = $2, last_response = coalesce($3, last_response), updated_at = $4,
                               leased_until = NULL
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

async function attempt(deps: RelayDeps, event: DeliveryRemote, claimed: Claimed): Promise<AttemptResult> {
  const { due } = claimed;
  const all = (v: Verdict) => new Map(due.map((d) => [d.recipient, v]));
  const { route, hop } = await deps.nextHop(event.domain, claimed.transport);
  if (route.kind === "bounce") return { verdicts: all({ outcome: "bounced", reply: route.reply }), answered: true, failure: "" };
  if (route.kind === "defer") return { verdicts: all({ outcome: "deferred", reply: route.reply }), answered: false, failure: route.reply };
  if (!claimed.raw) throw new Error(`blob ${event.blobId} of message ${event.messageId} is missing from the spool`);
  // Mail from another server (an alias forwarding it on) is not ours to sign: a hosted
  // From: domain's key would turn a forged From: into a valid signature of that domain.
  const signed = claimed.submittedHere ? await sign(deps, event, claimed.raw, claimed.senderKey) : claimed.raw;
  // Forwarded (an SRS sender of its own): the envelope sender's domain is SRS_DOMAIN, whose key seals.
  const raw = due.some((d) => d.envelopeFrom !== null) ? await seal(deps, event, signed, claimed.senderKey) : signed;
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

/**
 * DKIM-signs mail submitted here from a hosted domain that has a key (RFC 6376 §1.1: the
 * signer takes responsibility for the message); unsigned when it has none.
 */
async function sign(deps: RelayDeps, event: DeliveryRemote, raw: Buffer, senderKey: SigningKey | undefined): Promise<Buffer> {
  if (!deps.signingKey) return raw;
  const senderDomain = parseAddress(event.envelopeFrom)?.domain;
  const domain = fromDomain(raw) ?? senderDomain;
  if (!domain) return raw;
  // The claim read the envelope sender domain's key; another From: domain is asked for.
  const key = domain === senderDomain ? senderKey : await deps.signingKey(domain);
  if (!key) return raw;
  try {
    return await signMessage(raw, key, deps.clock.now());
  } catch (err) {
    // A broken key must not stop the mail: it goes unsigned and the log says why.
    deps.log.error({ err: (err as Error).message, domain }, "DKIM signing failed; sending unsigned");
    return raw;
  }
}

/**
 * ARC-seals a message we forward (RFC 8617) with the SRS domain's DKIM key, so that the
 * final hop, which sees SPF fail for the original sender, can trust our results. Without
 * a key, or when sealing fails, the message goes unsealed and the log says why.
 */
async function seal(deps: RelayDeps, event: DeliveryRemote, raw: Buffer, key: SigningKey | undefined): Promise<Buffer> {
  if (!deps.arc) return raw;
  if (!key) {
    arcSeals().add(1, { outcome: "no-key" });
    deps.log.warn({ messageId: event.messageId, envelopeFrom: event.envelopeFrom }, "no DKIM key for the SRS domain; forwarded message sent without an ARC seal");
    return raw;
  }
  try {
    const out = await sealForwarded(raw, key, { ...deps.arc, signTime: deps.clock.now() });
    arcSeals().add(1, { outcome: out.sealed ? "sealed" : "chain-failed" });
    if (out.sealed) return out.raw;
    deps.log.warn({ messageId: event.messageId, reason: out.reason }, "forwarded message sent without an ARC seal");
  } catch (err) {
    arcSeals().add(1, { outcome: "error" });
    deps.log.error({ err: (err as Error).message, messageId: event.messageId }, "ARC sealing failed; sending unsealed");
  }
  return raw;
}

/** What each recipient's verdict means now: its state, reply and next attempt. */
function outcomesOf(deps: RelayDeps, due: Delivery[], verdicts: Map<string, Verdict>, now: Date, lifetimeEnd: Date): Outcome[] {
  return due.map((d) => {
    const v = verdicts.get(d.recipient) ?? { outcome: "deferred", reply: "4.4.0 no result for this recipient" };
    if (v.outcome !== "deferred") return { deliveryId: d.id, state: v.outcome, response: v.reply };
    const attempts = d.attempts + 1;
    const next = afterFailure(now, attempts, lifetimeEnd, deps.policy, deps.random, v.reply);
    if (next.kind === "expire") {
      // RFC 5321 §4.5.4.1: give up after the lifetime; RFC 3463 X.4.7 delivery time expired.
      return { deliveryId: d.id, state: "expired", response: `5.4.7 delivery time expired after ${attempts} attempts; last: ${v.reply}` };
    }
    return { deliveryId: d.id, state: "deferred", response: v.reply, nextAttemptAt: next.at };
  });
}

/**
 * Records the outcomes (RFC 3464 Remote-MTA: the host that gave the replies). A hard
 * bounce (classifyBounce: 5.1.x, 5.2.1, …) also lists its recipient on the message's
 * sending domain's suppression list, in the same transaction as the bounce; without
 * one, the outcomes stay a single statement.
 */
async function record(on: { pool: Pool } | { tx: Queryable }, outcomes: Outcome[], now: Date, host: string | undefined): Promise<Recorded[]> {
  const hard = outcomes.flatMap((o) => {
    if (o.state !== "bounced") return [];
    const v = classifyBounce(o.response);
    return v.suppress ? [{ deliveryId: o.deliveryId, detail: host ? `${o.response} (remote MTA ${host})` : o.response }] : [];
  });
  const db = "pool" in on ? on.pool : on.tx;
  const write = async (tx: Queryable) => {
    const out = await recordOutcomes(tx, outcomes, now, host);
    // Only those this attempt moved: a redelivered event must not list anew.
    await suppressHardBounces(tx, hard.filter((h) => out.has(h.deliveryId)), now);
    return out;
  };
  const moved = hard.length === 0 ? await recordOutcomes(db, outcomes, now, host) : "pool" in on ? await withTransaction(on.pool, write) : await write(on.tx);
  return outcomes
    .filter((o) => moved.has(o.deliveryId))
    .map((o) => ({ id: o.deliveryId, state: o.state as Recorded["state"], nextAttemptAt: o.nextAttemptAt }));
}
