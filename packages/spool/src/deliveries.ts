import type { Queryable } from "@correo/db";

export type DeliveryState = "queued" | "routed" | "deferred" | "delivered" | "bounced" | "expired" | "suppressed";
/** `inbound`: an inbound route's HTTP endpoint (issue 15, migration 021). */
export type DeliveryRoute = "local" | "remote" | "inbound";
export type DeliveryEvent = "accepted" | "routed" | "deferred" | "delivered" | "bounced" | "expired" | "suppressed" | "complained";

/** Suppressed (issue 15): the recipient is on the sending domain's suppression list; never attempted, no DSN. */
export const FINAL_STATES: readonly DeliveryState[] = ["delivered", "bounced", "expired", "suppressed"];

export interface Delivery {
  id: string;
  messageId: string;
  recipient: string;
  state: DeliveryState;
  route: DeliveryRoute | null;
  attempts: number;
  nextAttemptAt: Date | null;
  lastResponse: string | null;
  /** The reverse-path this delivery is relayed with when it is not the message's (SRS forwarding, migration 016); null: the message's. */
  envelopeFrom: string | null;
}

/** A `deliveries` row as the driver returns it (`SELECT *`). */
export interface DeliveryRow {
  id: string;
  message_id: string;
  recipient: string;
  state: DeliveryState;
  route: DeliveryRoute | null;
  attempts: number;
  next_attempt_at: Date | null;
  last_response: string | null;
  envelope_from?: string | null;
}

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  messageId: r.message_id,
  recipient: r.recipient,
  state: r.state,
  route: r.route,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastResponse: r.last_response,
  envelopeFrom: r.envelope_from ?? null,
});

export async function loadDeliveries(db: Queryable, ids: string[]): Promise<Delivery[]> {
  const { rows } = await db.query<DeliveryRow>("SELECT * FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY recipient", [ids]);
  return rows.map(toDelivery);
}

export interface Transition {
  state: DeliveryState;
  event: DeliveryEvent;
  at: Date;
  route?: DeliveryRoute;
  /** Required unless `state` is final (DESIGN: nothing is stuck out of sight). */
  nextAttemptAt?: Date;
  response?: string;
  countAttempt?: boolean;
}

/**
 * Moves a delivery to a new state and records the event on its timeline. A delivery
 * in a final state never moves again: returns false then, so that a redelivered
 * broker message cannot change history.
 */
export async function transition(db: Queryable, deliveryId: string, t: Transition): Promise<boolean> {
  const final = FINAL_STATES.includes(t.state);
  if (!final && !t.nextAttemptAt) throw new Error(`a ${t.state} delivery needs a next attempt time`);
  // One statement (one round trip): the move and its timeline event.
  const { rowCount } = await db.query(
    `WITH moved AS (
       UPDATE deliveries
          SET state = $2, route = coalesce($3, route), next_attempt_at = $4,
              last_response = coalesce($5, last_response), attempts = attempts + $6, updated_at = $7
        WHERE id = $1 AND state NOT IN ('delivered', 'bounced', 'expired', 'suppressed')
       RETURNING id
     )
     INSERT INTO delivery_events (delivery_id, at, event, detail) SELECT id, $7, $8, $5 FROM moved`,
    [deliveryId, t.state, t.route ?? null, final ? null : t.nextAttemptAt, t.response ?? null, t.countAttempt ? 1 : 0, t.at, t.event],
  );
  return (rowCount ?? 0) > 0;
}

export interface Outcome {
  deliveryId: string;
  state: DeliveryState;
  /** Required unless `state` is final. */
  nextAttemptAt?: Date;
  response: string;
}

/**
 * `transition` for the outcomes of one attempt, in one statement (one round trip
 * however many recipients): each delivery moves to its state with the state as its
 * timeline event, its attempt counted, its attempt lease returned and, when given,
 * `remoteMta` recorded (RFC 3464 Remote-MTA). Final deliveries never move. Returns the
 * ids that moved.
 */
export async function recordOutcomes(db: Queryable, outcomes: Outcome[], at: Date, remoteMta?: string): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  for (const o of outcomes) {
    if (!FINAL_STATES.includes(o.state) && !o.nextAttemptAt) throw new Error(`a ${o.state} delivery needs a next attempt time`);
  }
  const { rows } = await db.query<{ delivery_id: string }>({
    // Named: each connection parses (and, on a pool with generic plans, plans) it once.
    name: "spool.record-outcomes",
    text: `WITH outcome AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[]) AS o(id, state, next_attempt_at, response)
     ), moved AS (
       UPDATE deliveries d
          SET state = o.state, next_attempt_at = o.next_attempt_at, last_response = o.response,
              attempts = d.attempts + 1, updated_at = $5, remote_mta = coalesce($6, d.remote_mta), leased_until = NULL
         FROM outcome o
        WHERE d.id = o.id AND d.state NOT IN ('delivered', 'bounced', 'expired', 'suppressed')
       RETURNING d.id, o.state, o.response
     )
     INSERT INTO delivery_events (delivery_id, at, event, detail)
     SELECT id, $5, state, response FROM moved
     RETURNING delivery_id`,
    values: [
      outcomes.map((o) => o.deliveryId),
      outcomes.map((o) => o.state),
      outcomes.map((o) => (FINAL_STATES.includes(o.state) ? null : o.nextAttemptAt)),
      outcomes.map((o) => o.response),
      at,
      remoteMta ?? null,
    ],
  });
  return new Set(rows.map((r) => r.delivery_id));
}

/** Deliveries whose next action time has passed, oldest first: the re-drive sweeper's work list. */
export async function overdueDeliveries(
  db: Queryable,
  now: Date,
  states: DeliveryState[],
  limit = 500,
): Promise<Delivery[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT * FROM deliveries
      WHERE next_attempt_at <= $1 AND state = ANY($2::text[])
      ORDER BY next_attempt_at LIMIT $3`,
    [now, states, limit],
  );
  return rows.map(toDelivery);
}

/** Pushes the next action time of non-final deliveries forward (after a re-drive). */
export async function postpone(db: Queryable, ids: string[], until: Date): Promise<void> {
  await db.query(
    `UPDATE deliveries SET next_attempt_at = $2
      WHERE id = ANY($1::uuid[]) AND state NOT IN ('delivered', 'bounced', 'expired', 'suppressed')`,
    [ids, until],
  );
}
