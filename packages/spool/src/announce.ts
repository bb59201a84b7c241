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

/** An event for `transitionAndAnnounce`, written only if the deliveries it names are still its to announce. */
export interface Announcement {
  event: AnyEvent;
  /**
   * Deliveries the event is about. It is written only if each of them moved in this
   * statement, or (when this statement does not change it) is `routed`: a delivery that a
   * guarded change left alone was taken by another process, which announces it itself.
   */
  guard?: string[];
}

/**
 * Several `transition`s and the outbox rows of the events that announce them, in one
 * statement (one round trip however many recipients and events): each delivery not yet
 * final (and, when asked, still in the state the caller read) moves and gets its timeline
 * event; each event (when guarded, whose deliveries are still its to announce) is written
 * to the outbox. Atomic on a bare pool; the caller commits its transaction, if any, then
 * `outbox.announce` what this returns.
 */
export async function transitionAndAnnounce(db: Queryable, outbox: Outbox, changes: Change[], events: Announcement[]): Promise<PendingEvent[]> {
  for (const c of changes) {
    if (!FINAL_STATES.includes(c.state) && !c.nextAttemptAt) throw new Error(`a ${c.state} delivery needs a next attempt time`);
  }
  if (changes.length === 0 && events.length === 0) return [];
  const drafts = events.map((e) => outbox.draft(e.event));
  // Named: prepared once per connection. It was parsed and planned for every message,
  // which cost PostgreSQL more than running it (issue 11, docs/performance.md).
  const { rows } = await db.query<{ kept: number[]; ids: number[] }>({
    name: "spool.transition-and-announce",
    text: `WITH change AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::int[], $8::timestamptz[], $12::text[])
                  AS c(id, state, route, next_attempt_at, response, event, attempt, at, expected)
     ), moved AS (
       UPDATE deliveries d
          SET state = c.state, route = coalesce(c.route, d.route), next_attempt_at = c.next_attempt_at,
              last_response = coalesce(c.response, d.last_response), attempts = d.attempts + c.attempt, updated_at = c.at
         FROM change c
        WHERE d.id = c.id AND d.state NOT IN ('delivered', 'bounced', 'expired', 'suppressed') AND (c.expected IS NULL OR d.state = c.expected)
       RETURNING d.id, c.event, c.response, c.at
     ), timeline AS (
       INSERT INTO delivery_events (delivery_id, at, event, detail) SELECT id, at, event, response FROM moved
     ), announcement AS (
       SELECT * FROM unnest($9::text[], $10::jsonb[], $11::jsonb[], $13::text[]) WITH ORDINALITY AS e(k, p, h, guard, n)
     ), kept AS (
       SELECT e.* FROM announcement e
        WHERE e.guard IS NULL OR NOT EXISTS (
          SELECT 1 FROM unnest(string_to_array(e.guard, ',')::uuid[]) AS g(id)
           WHERE g.id NOT IN (SELECT id FROM moved)
             AND (g.id IN (SELECT id FROM change)
                  OR NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.id = g.id AND x.state = 'routed')))
     ), written AS (
       INSERT INTO outbox (routing_key, payload, headers) SELECT k, p, h FROM kept ORDER BY n RETURNING id
     )
     SELECT coalesce((SELECT array_agg(n ORDER BY n) FROM kept), '{}') AS kept,
            coalesce((SELECT array_agg(id ORDER BY id) FROM written), '{}') AS ids`,
    values: [
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
      events.map((e) => (e.guard ? e.guard.join(",") : null)),
    ],
  });
  // bigserial ids are drawn in the order the rows are inserted, which is the events' order.
  const { kept, ids } = rows[0]!;
  return kept.map((n, i) => outbox.pending(Number(ids[i]), drafts[Number(n) - 1]!));
}
