/**
 * The POP3 session's two dependencies, on Correo's stores: accounts from the directory
 * (PostgreSQL), the maildrop from the account's INBOX (PostgreSQL) and its exclusive
 * lock in Redis, so that it holds across every running copy of retrieval.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Pool } from "@correo/db";
import { authenticate, type AuthCache } from "@correo/directory";
import type { MailStore } from "@correo/mailstore";
import { blobChunks, getBlob, readBlobs, type ReadBlob } from "@correo/spool";
import type { Logger } from "@correo/telemetry";
import type { Maildrop, MaildropMessage, MaildropStore, Pop3Account, Pop3Authenticator } from "@correo/pop3";

/** USER is the account's full e-mail address; PASS its password. `authCache`: see AUTH_CACHE_TTL. */
export function directoryAuthenticator(pool: Pool, authCache?: AuthCache): Pop3Authenticator {
  return {
    async authenticate(user, password) {
      const account = await authenticate(pool, user, password, { cache: authCache });
      return account && { id: account.id, address: account.address };
    },
  };
}

/** The Redis key of an account's maildrop lock. */
export function maildropLockKey(prefix: string, accountId: number): string {
  return `${prefix}:pop3:lock:${accountId}`;
}

/** The mailbox POP3 serves (RFC 1939 has a single maildrop per user). */
export const MAILDROP_MAILBOX = "INBOX";

export interface PgMaildropStoreOptions {
  pool: Pool;
  /** The mailbox store: UPDATE-state removals go through it, so IMAP sessions learn of them. */
  mail: MailStore;
  redis: Redis;
  /** CORREO_PREFIX: the lock key is `${prefix}:pop3:lock:<accountId>`. */
  prefix: string;
  /**
   * How long a lock outlives a session that stops refreshing it (a crashed process).
   * A live session refreshes it every third of this.
   */
  lockTtlMs?: number;
  log?: Logger;
}

// The lock holds a random token; only its holder may extend or delete it (compare-and-set in Lua).
const REFRESH_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

const DEFAULT_LOCK_TTL_MS = 60_000;

export class LockLostError extends Error {
  constructor(key: string) {
    super(`the maildrop lock ${key} expired or was taken over`);
    this.name = "LockLostError";
  }
}

export class PgMaildropStore implements MaildropStore {
  private readonly lockTtlMs: number;

  constructor(private readonly opts: PgMaildropStoreOptions) {
    this.lockTtlMs = opts.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  }

  async open(account: Pop3Account): Promise<Maildrop | "in-use"> {
    const { redis, pool } = this.opts;
    const key = maildropLockKey(this.opts.prefix, account.id);
    const token = randomUUID();
    // RFC 1939 §8: the server acquires an exclusive-access lock on the maildrop.
    const taken = await redis.set(key, token, "PX", this.lockTtlMs, "NX");
    if (taken !== "OK") return "in-use";
    const lock = new MaildropLock(redis, key, token, this.lockTtlMs, this.opts.log);
    try {
      // The login reads only the snapshot's totals and its last UID, from the folder row's
      // counters (migration 028: its message count, used_bytes, and UIDNEXT - 1, above which
      // every later delivery lands), not by summing its messages. The listing waits for the
      // first command that needs it and stops at that UID (`list`), so messages delivered
      // meanwhile stay out of this session (RFC 1939 §3: the numbers hold for the session).
      // One IMAP expunges in between is missing from the listing.
      const { rows } = await pool.query<{ id: number; uid_validity: number; count: string; octets: string; last_uid: string }>(
        "SELECT id, uid_validity, message_count AS count, used_bytes AS octets, uid_next - 1 AS last_uid FROM mailboxes WHERE account_id = $1 AND name = $2",
        [account.id, MAILDROP_MAILBOX],
      );
      const found = rows[0];
      const box = found && { id: found.id, uid_validity: found.uid_validity };
      const totals = { count: Number(found?.count ?? 0), octets: Number(found?.octets ?? 0), last_uid: Number(found?.last_uid ?? 0) };
      lock.startRefreshing();
      return new PgMaildrop(pool, this.opts.mail, box, totals.count, totals.octets, totals.last_uid, lock);
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
  }
}

class MaildropLock {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly token: string,
    private readonly ttlMs: number,
    private readonly log: Logger | undefined,
  ) {}

  startRefreshing(): void {
    this.timer = setInterval(() => void this.refresh().catch((e: Error) => this.log?.warn({ err: e.message, key: this.key }, "could not refresh the POP3 lock")), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  /** Extends the lock; false once it is no longer ours. */
  async refresh(): Promise<boolean> {
    if (this.lost) return false;
    const extended = await this.redis.eval(REFRESH_SCRIPT, 1, this.key, this.token, this.ttlMs);
    if (extended !== 1) {
      this.lost = true;
      this.log?.warn({ key: this.key }, "POP3 maildrop lock lost");
    }
    return !this.lost;
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.eval(RELEASE_SCRIPT, 1, this.key, this.token);
  }
}

/**
 * RETR reads ahead: clients fetch the maildrop in order (fetchmail, getmail, poplib's
 * loops), and a query per message cost a round trip to PostgreSQL each (RETR × 1 000:
 * 922 ms before, issue 13). One query fetches the next messages' blobs together, up to
 * READ_AHEAD_MESSAGES and READ_AHEAD_OCTETS, so a session holds at most that much.
 */
export const READ_AHEAD_MESSAGES = 64;
export const READ_AHEAD_OCTETS = 1024 * 1024;

class PgMaildrop implements Maildrop {
  /** Blobs read ahead by blob id, each taken out when it is sent. */
  private readonly ahead = new Map<string, ReadBlob>();
  private listing: Promise<readonly MaildropMessage[]> | undefined;
  private messages: readonly MaildropMessage[] = [];
  private readonly blobs = new Map<number, string>();

  constructor(
    private readonly pool: Pool,
    private readonly mail: MailStore,
    private readonly box: { id: number; uid_validity: number } | undefined,
    readonly count: number,
    readonly octets: number,
    /** The snapshot's last UID: UIDs only grow, so later deliveries are above it. */
    private readonly lastUid: number,
    private readonly lock: MaildropLock,
  ) {}

  list(): Promise<readonly MaildropMessage[]> {
    this.listing ??= this.readListing();
    return this.listing;
  }

  private async readListing(): Promise<readonly MaildropMessage[]> {
    const box = this.box;
    if (!box || this.count === 0) return [];
    const { rows } = await this.pool.query<{ uid: number; size: number; blob_id: string }>(
      "SELECT uid, size, blob_id FROM mailbox_messages WHERE mailbox_id = $1 AND uid <= $2 ORDER BY uid",
      [box.id, this.lastUid],
    );
    for (const r of rows) this.blobs.set(r.uid, r.blob_id);
    this.messages = rows.map((r) => ({ uid: r.uid, size: r.size, uniqueId: `${box.uid_validity}.${r.uid}` }));
    return this.messages;
  }

  async content(message: MaildropMessage): Promise<Buffer | undefined> {
    const blobId = this.blobs.get(message.uid);
    if (blobId === undefined) return undefined;
    return this.ahead.get(blobId)?.content ?? getBlob(this.pool, blobId);
  }

  async stream(message: MaildropMessage): Promise<Buffer | AsyncIterable<Buffer> | undefined> {
    const blobId = this.blobs.get(message.uid);
    if (blobId === undefined) return undefined;
    if (!this.ahead.has(blobId)) await this.readAhead(message);
    const blob = this.ahead.get(blobId);
    this.ahead.delete(blobId);
    if (!blob) return undefined;
    if (blob.content) return blob.content;
    return blobChunks(this.pool, blobId, blob.size);
  }

  /** `message` and the ones after it in the snapshot, in one query; large blobs by size only. */
  private async readAhead(message: MaildropMessage): Promise<void> {
    this.ahead.clear();
    const ids: string[] = [];
    let octets = 0;
    for (let i = this.messages.indexOf(message); i < this.messages.length && ids.length < READ_AHEAD_MESSAGES; i++) {
      const m = this.messages[i]!;
      if (ids.length > 0 && octets + m.size > READ_AHEAD_OCTETS) break;
      octets += m.size;
      const id = this.blobs.get(m.uid);
      if (id !== undefined) ids.push(id);
    }
    for (const [id, blob] of await readBlobs(this.pool, ids, READ_AHEAD_OCTETS)) this.ahead.set(id, blob);
  }

  async expunge(messages: readonly MaildropMessage[]): Promise<void> {
    if (this.box === undefined || messages.length === 0) return;
    // Only the lock holder may change the maildrop: a session whose lock expired and
    // was taken by another has lost its claim to the snapshot its DELEs refer to.
    if (!(await this.lock.refresh())) throw new LockLostError(this.lock.key);
    // One transaction in the mailbox store: the rows go, HIGHESTMODSEQ moves on (RFC 7162
    // §3.2), the expunged UIDs are recorded and mailbox.changed is announced, so IMAP
    // sessions on the same INBOX see the messages go.
    await this.mail.remove(this.box.id, messages.map((m) => m.uid));
  }

  release(): Promise<void> {
    return this.lock.release();
  }
}
