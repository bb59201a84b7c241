import type { Redis } from "ioredis";
import type { Clock } from "@correo/spool";

/**
 * The counters behind the SMTP limits, in Redis so that every copy of the service
 * sees the same numbers (DESIGN: no state in memory that another copy would need).
 * Keys live under `${prefix}:smtp:` and all expire on their own.
 */
export class SmtpCounters {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {}

  private key(...parts: (string | number)[]): string {
    return [this.prefix, "smtp", ...parts].join(":");
  }

  /** Counts a connection from `ip`; returns how many are open now (this one included). */
  async connectionOpened(ip: string, ttlMs: number): Promise<number> {
    const k = this.key("conn", ip);
    // The expiry only cleans up after a crashed process; live sessions decrement on close.
    const [[, n]] = (await this.redis.multi().incr(k).pexpire(k, ttlMs).exec()) as [[Error | null, number], unknown];
    return n;
  }

  async connectionClosed(ip: string): Promise<void> {
    const k = this.key("conn", ip);
    const n = await this.redis.decr(k);
    if (n <= 0) await this.redis.del(k);
  }

  async authFailures(ip: string, account: string): Promise<{ failuresByIp: number; failuresByAccount: number }> {
    const [byIp, byAccount] = await this.redis.mget(this.key("authfail", "ip", ip), this.key("authfail", "account", account.toLowerCase()));
    return { failuresByIp: Number(byIp ?? 0), failuresByAccount: Number(byAccount ?? 0) };
  }

  /** Records one failed AUTH for the client address and the account name tried, each in a window from its first failure. */
  async recordAuthFailure(ip: string, account: string, windowMs: number): Promise<void> {
    const keys = [this.key("authfail", "ip", ip), this.key("authfail", "account", account.toLowerCase())];
    const m = this.redis.multi();
    for (const k of keys) m.incr(k).pexpire(k, windowMs, "NX");
    await m.exec();
  }

  private hourKey(accountId: number): string {
    const hour = Math.floor(this.clock.now().getTime() / 3_600_000);
    return this.key("sent", accountId, hour);
  }

  async messagesThisHour(accountId: number): Promise<number> {
    return Number((await this.redis.get(this.hourKey(accountId))) ?? 0);
  }

  async recordMessage(accountId: number): Promise<void> {
    const k = this.hourKey(accountId);
    await this.redis.multi().incr(k).pexpire(k, 3_600_000 * 2).exec();
  }
}
