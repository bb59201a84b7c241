import type { Queryable } from "@correo/db";

export type DeliveryState = "queued" | "routed" | "deferred" | "delivered" | "bounced" | "expired";
export type DeliveryRoute = "local" | "remote";
export type DeliveryEvent = "accepted" | "routed" | "deferred" | "delivered" | "bounced" | "expired";

export const FINAL_STATES: readonly DeliveryState[] = ["delivered", "bounced", "expired"];

export interface Delivery {
  id: string;
  messageId: string;
  recipient: string;
  state: DeliveryState;
  route: DeliveryRoute | null;
  attempts: number;
  nextAttemptAt: Date | null;
  lastResponse: string | null;
}

interface DeliveryRow {
  id: string;
  message_id: string;
  recipient: string;
  state: DeliveryState;
  route: DeliveryRoute | null;
  attempts: number;
  next_attempt_at: Date | null;
  last_response: string | null;
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  messageId: r.message_id,
  recipient: r.recipient,
  state: r.state,
  route: r.route,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastResponse: r.last_response,
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
  const { rowCount } = await db.query(
    `UPDATE deliveries
        SET state = $2, route = coalesce($3, route), next_attempt_at = $4,
            last_response = coalesce($5, last_response), attempts = attempts + $6, updated_at = $7
      WHERE id = $1 AND state NOT IN ('delivered', 'bounced', 'expired')`,
    [deliveryId, t.state, t.route ?? null, final ? null : t.nextAttemptAt, t.response ?? null, t.countAttempt ? 1 : 0, t.at],
  );
  if (!rowCount) return false;
  await db.query("INSERT INTO delivery_events (delivery_id, at, event, detail) VALUES ($1, $2, $3, $4)", [
    deliveryId,
    t.at,
    t.event,
    t.response ?? null,
  ]);
  return true;
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
      WHERE id = ANY($1::uuid[]) AND state NOT IN ('delivered', 'bounced', 'expired')`,
    [ids, until],
  );
}
