import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * The relay's retry schedule: a Redis sorted set scored by due time (ms since the epoch),
 * member = delivery id. It is an index, not the truth (DESIGN): the deliveries row holds
 * attempts, next_attempt_at and last_response, and relay-queue's reconciler rebuilds the
 * set from PostgreSQL whenever Redis lost it. Shared by relay-queue and queue management.
 */

// Takes up to ARGV[2] members due by ARGV[1] and removes them in the same script, so
// that two relay-queue copies never claim the same entry (Redis runs a script atomically).
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due`;

// A counting semaphore with expiring holders: ZSET member = holder, score = expiry (ms).
// KEYS[1] set; ARGV: now, limit, holder, expiry. Returns 1 when a slot was taken.
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(ARGV[4]) - tonumber(ARGV[1])))
  return 1
end
return 0`;

// Extends the expiry of holders still holding (score still in the future): KEYS = sets,
// ARGV: now, expiry, then one holder per key. Returns 1 per holder extended, 0 per holder
// whose slot lapsed or was taken out (it is not brought back).
const RENEW_SLOTS = `
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = 0
  local score = redis.call('ZSCORE', key, ARGV[i + 2])
  if score and tonumber(score) > tonumber(ARGV[1]) then
    redis.call('ZADD', key, 'XX', ARGV[2], ARGV[i + 2])
    if redis.call('PTTL', key) < tonumber(ARGV[2]) - tonumber(ARGV[1]) then
      redis.call('PEXPIRE', key, math.max(1, tonumber(ARGV[2]) - tonumber(ARGV[1])))
    end
    out[i] = 1
  end
end
return out`;

/** A held connection slot: calling it releases the slot; key and holder name it for renewal. */
export interface SlotHold {
  (): Promise<void>;
  readonly key: string;
  readonly holder: string;
}

/** The relay's sorted set of due times: the one place its name is made (queue, relay-queue, metrics). */
export function relayScheduleKey(prefix: string): string {
  return `${prefix}:relay:schedule`;
}

export interface ScheduleEntry {
  deliveryId: string;
  dueAt: Date;
}

export class RetrySchedule {
  readonly key: string;
  private readonly slotPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = relayScheduleKey(prefix);
    this.slotPrefix = `${prefix}:relay:slots:`;
  }

  /** Schedules (or moves) entries to their due time. */
  async add(entries: ScheduleEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.zadd(this.key, ...entries.flatMap((e) => [e.dueAt.getTime(), e.deliveryId]));
  }

  /**
   * Adds the entries the set lacks and moves earlier those scheduled later than `dueAt`
   * (ZADD LT: an administrator's "retry now" written only to PostgreSQL); entries already
   * due earlier keep their time. Returns how many were added.
   */
  async addMissing(entries: ScheduleEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    return this.redis.zadd(this.key, "LT", ...entries.flatMap((e) => [e.dueAt.getTime(), e.deliveryId]));
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

  /** Entries due at `now` or earlier (not yet claimed). */
  async dueCount(now: Date): Promise<number> {
    return this.redis.zcount(this.key, "-inf", now.getTime());
  }

  async score(deliveryId: string): Promise<number | undefined> {
    const s = await this.redis.zscore(this.key, deliveryId);
    return s === null ? undefined : Number(s);
  }

  /**
   * One of `limit` connection slots of a destination, shared by every relay-queue copy.
   * Returns a release function, or undefined when all slots are taken. A slot expires
   * after `ttlMs`, so a copy that dies holding one does not block the destination.
   */
  async acquireSlot(destination: string, limit: number, now: Date, ttlMs: number): Promise<SlotHold | undefined> {
    const key = this.slotPrefix + destination;
    const holder = randomUUID();
    const got = (await this.redis.eval(ACQUIRE_SLOT, 1, key, now.getTime(), limit, holder, now.getTime() + ttlMs)) as number;
    if (got !== 1) return undefined;
    return Object.assign(async () => void (await this.redis.zrem(key, holder)), { key, holder });
  }

  /**
   * Moves the expiry of slots this copy still holds to `ttlMs` from `now`, in one script
   * for all of them; returns, per slot, whether it was still held (a lapsed slot stays lapsed).
   * A copy renews its slots while its attempts run, so a short TTL frees the slots of
   * a copy that died within one TTL.
   */
  async renewSlots(held: readonly SlotHold[], now: Date, ttlMs: number): Promise<boolean[]> {
    if (held.length === 0) return [];
    const out = (await this.redis.eval(
      RENEW_SLOTS,
      held.length,
      ...held.map((h) => h.key),
      now.getTime(),
      now.getTime() + ttlMs,
      ...held.map((h) => h.holder),
    )) as number[];
    return out.map((n) => n === 1);
  }
}
