import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { clientKey } from "./client-address.js";
import { decideLoginAttempt, penaltyDelayMs, type LoginGate, type LoginOutcome, type LoginThrottleLimits } from "./penalty.js";

/**
 * Records one failure for the client address and for the account name, each counter
 * expiring `window` after its latest failure; returns the account's count.
 * KEYS: address counter, account counter; ARGV: window (ms).
 */
const RECORD_FAILURE = `
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local n = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return n`;

export interface LoginThrottleOptions {
  log?: { warn(obj: object, msg: string): void };
  /** Redis calls slower than this count as failed (a login is never held up by Redis for longer). */
  redisTimeoutMs?: number;
}

/**
 * Login throttling for every protocol that takes a password (SMTP AUTH, IMAP, POP3,
 * the HTTP mailbox API), shared through Redis so that all copies and all protocols
 * count the same failures (DESIGN: no state in memory that another copy would need).
 * Keys live under `<prefix>:login:` and expire on their own.
 *
 * Without Redis a login is still checked (the owner can read mail while Redis is
 * down) and a failure waits the longest penalty, since its count is unknown.
 */
export class LoginThrottle {
  private readonly redisTimeoutMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly limits: LoginThrottleLimits,
    private readonly opts: LoginThrottleOptions = {},
  ) {
    this.redisTimeoutMs = opts.redisTimeoutMs ?? 2000;
  }

  addressKey(remoteAddress: string | undefined): string {
    return `${this.prefix}:login:addr:${clientKey(remoteAddress)}`;
  }

  /** Account names are hashed: the key stays short whatever a client sends, and holds no address. */
  accountKey(name: string): string {
    const normalized = name.trim().normalize("NFC").toLowerCase();
    return `${this.prefix}:login:account:${createHash("sha256").update(normalized).digest("base64url").slice(0, 22)}`;
  }

  /** Whether a login from `remoteAddress` may be checked now. */
  async gate(remoteAddress: string | undefined): Promise<LoginGate> {
    const key = this.addressKey(remoteAddress);
    try {
      const [[, count], [, ttl]] = (await this.bounded(this.redis.multi().get(key).pttl(key).exec())) as [[unknown, string | null], [unknown, number]];
      return decideLoginAttempt(Number(count ?? 0), Number(ttl), this.limits);
    } catch (err) {
      this.opts.log?.warn({ err: (err as Error).message }, "login throttle unavailable; checking the password without it");
      return { verdict: "check" };
    }
  }

  /** Records a failure; resolves with the penalty delay to wait before answering it. */
  async failed(remoteAddress: string | undefined, name: string): Promise<number> {
    try {
      const n = await this.bounded(this.redis.eval(RECORD_FAILURE, 2, this.addressKey(remoteAddress), this.accountKey(name), this.limits.windowMs));
      return penaltyDelayMs(Number(n), this.limits);
    } catch (err) {
      this.opts.log?.warn({ err: (err as Error).message }, "login failure not recorded; answering it after the longest delay");
      return this.limits.penaltyMaxMs;
    }
  }

  /**
   * One login attempt: the address gate, then `check` (undefined: wrong name or
   * password), then on failure the record and the penalty delay, waited here.
   */
  async attempt<T>(remoteAddress: string | undefined, name: string, check: () => Promise<T | undefined>): Promise<LoginOutcome<T>> {
    const gate = await this.gate(remoteAddress);
    if (gate.verdict === "refuse") return { outcome: "refused", retryAfterMs: gate.retryAfterMs };
    const account = await check();
    if (account !== undefined) return { outcome: "ok", account };
    const delayMs = await this.failed(remoteAddress, name);
    if (delayMs > 0) await sleep(delayMs);
    return { outcome: "failed", delayMs };
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.redisTimeoutMs} ms`)), this.redisTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
