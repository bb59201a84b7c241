import type { Queryable } from "@correo/db";
import { parkedFor, type BackoffPolicy } from "@correo/queue";

// Dead destinations (Postfix qmgr's "dead" transport state): a recipient domain whose
// hosts do not answer at all is parked in PostgreSQL, so that every relay-queue copy
// sees it (each attempt's claim in deliver.ts reads its row). While parked, its
// deliveries wait for `parked_until` without an SMTP attempt each, and come back
// together; other destinations are not slowed by it.

/** A host answered (any reply, even 5yz): the destination is alive. */
export async function destinationAnswered(db: Queryable, domain: string, now: Date): Promise<void> {
  await db.query(
    "UPDATE relay_destinations SET failures = 0, parked_until = NULL, updated_at = $2 WHERE domain = $1 AND (failures > 0 OR parked_until IS NOT NULL)",
    [domain, now],
  );
}

/** No host answered: counts the failure; returns when the destination is parked until, if it now is. */
export async function destinationFailed(
  db: Queryable,
  domain: string,
  error: string,
  now: Date,
  parkAfter: number,
  policy: BackoffPolicy,
): Promise<Date | undefined> {
  const { rows } = await db.query<{ failures: number }>(
    `INSERT INTO relay_destinations (domain, failures, last_error, updated_at) VALUES ($1, 1, $2, $3)
     ON CONFLICT (domain) DO UPDATE SET failures = relay_destinations.failures + 1, last_error = $2, updated_at = $3
     RETURNING failures`,
    [domain, error, now],
  );
  const parkMs = parkedFor(rows[0]!.failures, parkAfter, policy);
  if (parkMs === undefined) return undefined;
  const until = new Date(now.getTime() + parkMs);
  await db.query("UPDATE relay_destinations SET parked_until = $2 WHERE domain = $1", [domain, until]);
  return until;
}
