import type { AnyEvent } from "@correo/contracts";
import type { Queryable } from "@correo/db";
import { FINAL_STATES, type DeliveryState, type Transition } from "./deliveries.js";
import type { Outbox, PendingEvent } from "./outbox.js";

/** One delivery's `transition`, for `transitionAndAnnounce`. */
export interface Change extends Transition {
  deliveryId: string;
  /**
   * Moves the delivery only if it is still in this state (what the caller read without a
   * lock); a delivery another process moved meanwhile is left as that one left it.
   */
  expectedState?: DeliveryState;
}

/**
 * Several `transition`s and the outbox rows of the events that announce them, in one
 * statement (one round trip however many recipients and events): each delivery not yet
 * final (and, when asked, still in the state the caller read) moves and gets its timeline
 * event; every event is written to the outbox. Atomic on a bare pool; the caller
 * commits its transaction, if any, then `outbox.publish` what this returns.
 */
export async function transitionAndAnnounce(db: Queryable, outbox: Outbox, changes: Change[], events: AnyEvent[]): Promise<PendingEvent[]> {
  for (const c of changes) {
    if (!FINAL_STATES.includes(c.state) && !c.nextAttemptAt) throw new Error(`a ${c.state} delivery needs a next attempt time`);
  }
  if (changes.length === 0 && events.length === 0) return [];
  const drafts = events.map((e) => outbox.draft(e));
  const { rows } = await db.query<{ id: number }>(
    `WITH change AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::int[], $8::timestamptz[], $12::text[])
                  AS c(id, state, route, next_attempt_at, response, event, attempt, at, expected)
     ), moved AS (
       UPDATE deliveries d
          SET state = c.state, route = coalesce(c.route, d.route), next_attempt_at = c.next_attempt_at,
              last_response = coalesce(c.response, d.last_response), attempts = d.attempts + c.attempt, updated_at = c.at
         FROM change c
        WHERE d.id = c.id AND d.state NOT IN ('delivered', 'bounced', 'expired') AND (c.expected IS NULL OR d.state = c.expected)
       RETURNING d.id, c.event, c.response, c.at
     ), timeline AS (
       INSERT INTO delivery_events (delivery_id, at, event, detail) SELECT id, at, event, response FROM moved
     )
     INSERT INTO outbox (routing_key, payload, headers)
     SELECT k, p, h FROM unnest($9::text[], $10::jsonb[], $11::jsonb[]) WITH ORDINALITY AS e(k, p, h, n) ORDER BY n
     RETURNING id`,
    [
      changes.map((c) => c.deliveryId),
      changes.map((c) => c.state),
      changes.map((c) => c.route ?? null),
      changes.map((c) => (FINAL_STATES.includes(c.state) ? null : c.nextAttemptAt)),
      changes.map((c) => c.response ?? null),
      changes.map((c) => c.event),
      changes.map((c) => (c.countAttempt ? 1 : 0)),
      changes.map((c) => c.at),
      drafts.map((d) => d.routingKey),
      drafts.map((d) => d.payload),
      drafts.map((d) => JSON.stringify(d.headers)),
      changes.map((c) => c.expectedState ?? null),
    ],
  );
  // bigserial ids are drawn in the order the rows are inserted, which is the events' order.
  const ids = rows.map((r) => r.id).sort((a, b) => a - b);
  return drafts.map((d, i) => outbox.pending(ids[i]!, d));
}
