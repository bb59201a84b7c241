import { createHmac, randomBytes } from "node:crypto";

/** What a cached login proves: these credentials matched this account's password hash, once. */
export interface CachedLogin {
  accountId: number;
  /** accounts.password_hash the password was verified against: a changed password no longer matches. */
  passwordHash: string;
  expiresAt: number;
}

export interface AuthCacheOptions {
  /** How long a verified login is remembered (AUTH_CACHE_TTL); 0 disables the cache. */
  ttlMs: number;
  /** Most logins remembered; the least recently used goes first. */
  maxEntries?: number;
  now?: () => number;
}

export const DEFAULT_AUTH_CACHE_ENTRIES = 10_000;

/**
 * Successful password checks, remembered for a short while so that a client that
 * reconnects (IMAP clients open several connections, and reopen them all day) does
 * not pay scrypt again: Dovecot's auth cache, for SMTP AUTH, IMAP, POP3 and HTTP Basic.
 *
 * The key is HMAC-SHA256 of the account name and password under a secret drawn when
 * the process starts and never written anywhere: the cache holds neither the password
 * nor a hash of it that could be checked without that secret. Only successes are
 * remembered; the caller still reads the account row at every login and uses an entry
 * only while the row's id and password hash are the ones it was verified against, so
 * a password change or a removed account takes effect at once, in every copy.
 *
 * In memory, per process and bounded (LRU): a copy that a client reaches for the first
 * time verifies once; nothing credential-derived crosses the network or reaches Redis.
 */
export class AuthCache {
  readonly ttlMs: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  private readonly secret = randomBytes(32);
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  private readonly entries = new Map<string, CachedLogin>();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** Logins let in from the cache, and logins whose password was hashed (right or wrong) while it was on. */
  readonly stats = { hits: 0, verified: 0 };

  constructor(opts: AuthCacheOptions) {
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 0) throw new RangeError(`the auth cache TTL must be 0 or more milliseconds, not ${opts.ttlMs}`);
    this.ttlMs = opts.ttlMs;
    this.maxEntries = opts.maxEntries ?? DEFAULT_AUTH_CACHE_ENTRIES;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError(`the auth cache needs room for at least 1 entry, not ${this.maxEntries}`);
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** HMAC-SHA256(process secret, [name, password]); JSON keeps the pair unambiguous. */
  key(name: string, password: string): string {
    return createHmac("sha256", this.secret).update(JSON.stringify([name, password])).digest("base64url");
  }

  /** The entry for `key` if it has not expired (and marks it recently used). */
  get(key: string): CachedLogin | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  /** Remembers a login that scrypt has just verified. */
  remember(key: string, accountId: number, passwordHash: string): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    this.entries.set(key, { accountId, passwordHash, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /**
   * Runs `verify` once for logins with the same credentials against the same stored
   * hash that arrive while it runs (ten clients connecting at once pay one scrypt);
   * the result is shared only while it is being computed, never kept.
   */
  verifyOnce(key: string, passwordHash: string, verify: () => Promise<boolean>): Promise<boolean> {
    const flightKey = `${key} ${passwordHash}`;
    const pending = this.inFlight.get(flightKey);
    if (pending) return pending;
    this.stats.verified++;
    const p = verify().finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, p);
    return p;
  }
}
