import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Clock } from "@correo/spool";
import type { Logger } from "@correo/telemetry";

/**
 * Takes a connection lease when fewer than `limit` live ones are held: drops the
 * expired leases of the address (copies that died), counts the rest and adds this one,
 * atomically. Returns the count with this connection; above `limit`, nothing was added.
 * KEYS[1] the address's sorted set; ARGV: now, expiry (ms), member, limit, key TTL (ms).
 */
const TAKE_LEASE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = redis.call('ZCARD', KEYS[1]) + 1
if n > tonumber(ARGV[4]) then return n end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return n`;

/**
 * Takes one message of an hour's budget unless it is spent: returns the count before;
 * at ARGV[1] (the limit) or above, nothing is taken. KEYS[1] the hour's counter; ARGV[2] its TTL (ms).
 */
const TAKE_MESSAGE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return n end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n`;

/** Gives a taken message back, unless the hour's counter expired meanwhile (no negative count without a TTL). */
const RETURN_MESSAGE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0`;

export interface SmtpCountersOptions {
  /** How long a connection lease lives unless its copy renews it; a copy that dies loses its share after this. */
  leaseTtlMs?: number;
  log?: Logger;
}

/**
 * The counters behind the SMTP limits, in Redis so that every copy of the service
 * sees the same numbers (DESIGN: no state in memory that another copy would need).
 * Keys live under `${prefix}:smtp:` and all expire on their own.
 *
 * Open connections are leases, never a bare counter (DESIGN: any count a copy holds
 * expires when the copy dies): per client address a sorted set of
 * `<copy id>:<session id>` scored by expiry time. The copy renews the leases of its
 * open sessions every third of the TTL and removes one when its session closes; the
 * leases of a copy killed with -9 lapse within the TTL and no longer count.
 */
export class SmtpCounters {
  /** This process's id in lease members. */
  readonly copyId = randomUUID();
  private readonly leases = new Map<string, string>(); // member → its key
  /** Session → the hour counter it took a message from and has not had accepted yet. */
  private readonly taken = new Map<string, string>();
  private readonly leaseTtlMs: number;
  private readonly renewal: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
    private readonly opts: SmtpCountersOptions = {},
  ) {
    this.leaseTtlMs = opts.leaseTtlMs ?? 15_000;
    this.renewal = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseTtlMs / 3)));
    this.renewal.unref();
  }

  private key(...parts: (string | number)[]): string {
    return [this.prefix, "smtp", ...parts].join(":");
  }

  /**
   * Takes a lease for session `sessionId` from `ip` unless `limit` live connections
   * from it are open; returns how many are open with this one (more than `limit`: refused, no lease taken).
   */
  async connectionOpened(ip: string, sessionId: string, limit: number): Promise<number> {
    const k = this.key("conn", ip);
    const member = `${this.copyId}:${sessionId}`;
    const now = this.clock.now().getTime();
    const n = Number(await this.redis.eval(TAKE_LEASE, 1, k, now, now + this.leaseTtlMs, member, limit, this.leaseTtlMs * 2));
    if (n <= limit) this.leases.set(member, k);
    return n;
  }

  async connectionClosed(ip: string, sessionId: string): Promise<void> {
    const member = `${this.copyId}:${sessionId}`;
    if (!this.leases.delete(member)) return;
    await this.redis.zrem(this.key("conn", ip), member);
  }

  /** Pushes the expiry of every open session's lease out by one TTL (re-adding any that Redis lost). */
  private async renew(): Promise<void> {
    if (this.leases.size === 0) return;
    const expiry = this.clock.now().getTime() + this.leaseTtlMs;
    const batch = this.redis.pipeline();
    const keys = new Set<string>();
    for (const [member, k] of this.leases) {
      batch.zadd(k, expiry, member);
      keys.add(k);
    }
    for (const k of keys) batch.pexpire(k, this.leaseTtlMs * 2);
    await batch.exec().catch((err: Error) => this.opts.log?.warn({ err: err.message }, "SMTP connection leases not renewed; will retry"));
  }

  /** Stops renewing; the leases still held lapse within the TTL. */
  stop(): void {
    clearInterval(this.renewal);
  }

  private hourKey(accountId: number): string {
    const hour = Math.floor(this.clock.now().getTime() / 3_600_000);
    return this.key("sent", accountId, hour);
  }

  /**
   * Takes one message of the account's hourly budget for the transaction `sessionId`
   * starts (at MAIL FROM), atomically over every copy: a check now and a count after the
   * accept let sessions on several copies all pass the check before any counted. Returns
   * how many the account had sent or taken this hour before; at `limit` or above, nothing
   * was taken. A session's earlier message not accepted is given back first.
   */
  async takeMessage(sessionId: string, accountId: number, limit: number): Promise<number> {
    await this.returnMessage(sessionId);
    const k = this.hourKey(accountId);
    const before = Number(await this.redis.eval(TAKE_MESSAGE, 1, k, limit, 3_600_000 * 2));
    if (before < limit) this.taken.set(sessionId, k);
    return before;
  }

  /** The message taken for `sessionId` was accepted: it stays counted. */
  messageAccepted(sessionId: string): void {
    this.taken.delete(sessionId);
  }

  /**
   * The transaction of `sessionId` ended without an accepted message (RSET, a refused
   * DATA, the client left): gives its message back to the budget. A copy that dies keeps
   * what it took until the hour's counter expires: the budget errs on the strict side.
   */
  async returnMessage(sessionId: string): Promise<void> {
    const k = this.taken.get(sessionId);
    if (k === undefined) return;
    this.taken.delete(sessionId);
    await this.redis.eval(RETURN_MESSAGE, 1, k);
  }
}
