import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Broker } from "@correo/broker";
import type { DeliveryRemote } from "@correo/contracts";
import type { Pool } from "@correo/db";
import { parseAddress } from "@correo/directory";
import { loadDeliveries, type Clock } from "@correo/spool";
import type { Logger } from "@correo/telemetry";

/**
 * The retry schedule: a Redis sorted set scored by due time (ms since the epoch), member
 * = delivery id. It is an index, not the truth (DESIGN): the deliveries row holds
 * attempts, next_attempt_at and last_response, and reconcile.ts rebuilds the set from
 * PostgreSQL whenever Redis lost it.
 */

// Takes up to ARGV[2] members due by ARGV[1] and removes them in the same script, so
// that two relay-queue copies never claim the same entry (Redis runs a script atomically).
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due`;

// Deletes a lease only if it is still ours (it may have expired and been taken since).
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface ScheduleEntry {
  deliveryId: string;
  dueAt: Date;
}

export class RetrySchedule {
  readonly key: string;
  private readonly leasePrefix: string;
  /** Identifies this process's leases. */
  private readonly owner = randomUUID();

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:relay:schedule`;
    this.leasePrefix = `${prefix}:relay:lease:`;
  }

  /** Schedules (or moves) entries to their due time. */
  async add(entries: ScheduleEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.zadd(this.key, ...entries.flatMap((e) => [e.dueAt.getTime(), e.deliveryId]));
  }

  /** Adds the entries the set lacks, leaving present ones alone; returns how many were added. */
  async addMissing(entries: ScheduleEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    return this.redis.zadd(this.key, "NX", ...entries.flatMap((e) => [e.dueAt.getTime(), e.deliveryId]));
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.key, ...ids);
  }

  /** Atomically takes up to `limit` entries due at `now` out of the set. */
  async claimDue(now: Date, limit = 500): Promise<string[]> {
    return (await this.redis.eval(CLAIM_DUE, 1, this.key, now.getTime(), limit)) as string[];
  }

  async size(): Promise<number> {
    return this.redis.zcard(this.key);
  }

  async score(deliveryId: string): Promise<number | undefined> {
    const s = await this.redis.zscore(this.key, deliveryId);
    return s === null ? undefined : Number(s);
  }

  /**
   * Leases deliveries for one attempt, so that two copies handling the same event at the
   * same time (a re-drive racing the original) do not both send. Returns those leased.
   * Coordination only: a lost lease costs at most a duplicate attempt, never a delivery.
   */
  async lease(ids: string[], ttlMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.set(this.leasePrefix + id, this.owner, "PX", ttlMs, "NX");
    const results = (await pipe.exec()) ?? [];
    return ids.filter((_, i) => results[i]?.[1] === "OK");
  }

  async release(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.redis.eval(RELEASE_LEASE, 1, this.leasePrefix + id, this.owner)));
  }
}

/** After a failed publish (broker down), when the claim is tried again. */
const PUBLISH_RETRY_MS = 10_000;

export interface RedriveDeps {
  pool: Pool;
  broker: Broker;
  schedule: RetrySchedule;
  clock: Clock;
  log: Logger;
}

/**
 * Claims the deliveries due now and publishes delivery.remote again, one event per
 * (message, domain) so that recipients of one destination share one SMTP transaction.
 * What cannot be published goes back into the set; the delivery row is not touched, so
 * a crash between claim and publish is repaired by the reconciler.
 */
export async function publishDue(deps: RedriveDeps, limit = 500): Promise<number> {
  const now = deps.clock.now();
  const ids = await deps.schedule.claimDue(now, limit);
  if (ids.length === 0) return 0;
  const rows = (await loadDeliveries(deps.pool, ids)).filter((d) => d.state === "deferred" && d.route === "remote");
  // Not due after all (the row moved on while Redis had an old score): put it back on time.
  const early = rows.filter((d) => d.nextAttemptAt && d.nextAttemptAt.getTime() > now.getTime());
  await deps.schedule.add(early.map((d) => ({ deliveryId: d.id, dueAt: d.nextAttemptAt! })));
  const due = rows.filter((d) => !early.includes(d));
  if (due.length === 0) return 0;

  const { rows: messages } = await deps.pool.query<{ id: string; blob_id: string; envelope_from: string }>(
    "SELECT id, blob_id, envelope_from FROM messages WHERE id = ANY($1::uuid[])",
    [[...new Set(due.map((d) => d.messageId))]],
  );
  const byId = new Map(messages.map((m) => [m.id, m]));
  const groups = new Map<string, { event: DeliveryRemote; ids: string[] }>();
  for (const d of due) {
    const m = byId.get(d.messageId);
    const domain = parseAddress(d.recipient)?.domain;
    if (!m || !domain) continue;
    const key = `${d.messageId} ${domain}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        event: { type: "delivery.remote", version: 1, messageId: m.id, blobId: m.blob_id, envelopeFrom: m.envelope_from, domain, deliveries: [] },
        ids: [],
      };
      groups.set(key, g);
    }
    g.event.deliveries.push({ deliveryId: d.id, recipient: d.recipient });
    g.ids.push(d.id);
  }
  let published = 0;
  for (const g of groups.values()) {
    try {
      await deps.broker.publish(g.event);
      published += g.ids.length;
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, messageId: g.event.messageId }, "retry publish failed; rescheduled");
      await deps.schedule.add(g.ids.map((deliveryId) => ({ deliveryId, dueAt: new Date(now.getTime() + PUBLISH_RETRY_MS) }))).catch(() => undefined);
    }
  }
  if (published > 0) deps.log.info({ count: published }, "published due retries");
  return published;
}
