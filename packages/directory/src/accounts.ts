import type { Pool } from "@correo/db";
import { withTransaction, type Queryable } from "@correo/db";
import { addressProblem, parseAddress } from "./address.js";
import { DirectoryError } from "./errors.js";
import type { AuthCache } from "./auth-cache.js";
import { hashPassword, verifyPassword } from "./password.js";

export interface Account {
  id: number;
  address: string;
  domainId: number;
  enabled: boolean;
  quotaBytes: number | null;
  createdAt: Date;
}

interface AccountRow {
  id: number;
  address: string;
  domain_id: number;
  enabled: boolean;
  quota_bytes: number | null;
  created_at: Date;
  password_hash: string;
}

const toAccount = (r: AccountRow): Account => ({
  id: r.id,
  address: r.address,
  domainId: r.domain_id,
  enabled: r.enabled,
  quotaBytes: r.quota_bytes,
  createdAt: r.created_at,
});

/** The mailboxes every new account starts with (RFC 6154 special-use). */
export const defaultMailboxes: { name: string; specialUse: string | null }[] = [
  { name: "INBOX", specialUse: null },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Drafts", specialUse: "\\Drafts" },
  { name: "Trash", specialUse: "\\Trash" },
  { name: "Junk", specialUse: "\\Junk" },
];

export const MIN_PASSWORD_LENGTH = 8;

export interface AccountOptions {
  /** Largest total size of the account's messages, in bytes; undefined or null: no limit. */
  quotaBytes?: number | null;
  /** A disabled account cannot log in and its mail bounces (5.2.1). Default true. */
  enabled?: boolean;
}

function checkQuota(quotaBytes: number | null | undefined): number | null {
  if (quotaBytes === undefined || quotaBytes === null) return null;
  if (!Number.isSafeInteger(quotaBytes) || quotaBytes <= 0) {
    throw new DirectoryError("invalid", `the quota must be a positive number of bytes, not '${quotaBytes}'`, "quota");
  }
  return quotaBytes;
}

export async function addAccount(pool: Pool, address: string, password: string, opts: AccountOptions = {}): Promise<Account> {
  const parsed = parseAddress(address);
  if (!parsed) throw new DirectoryError("invalid", `'${address}' ${addressProblem(address)}`, "address");
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new DirectoryError("invalid", `the password must have at least ${MIN_PASSWORD_LENGTH} characters`, "password");
  }
  const quotaBytes = checkQuota(opts.quotaBytes);
  const passwordHash = await hashPassword(password);
  return withTransaction(pool, async (db) => {
    const domain = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [parsed.domain]);
    const domainId = domain.rows[0]?.id;
    if (!domainId) {
      const alias = await db.query<{ domain: string }>(
        "SELECT d.name AS domain FROM domain_aliases x JOIN domains d ON d.id = x.domain_id WHERE x.name = $1",
        [parsed.domain],
      );
      if (alias.rows[0]) {
        throw new DirectoryError("invalid", `${parsed.domain} is an alias of ${alias.rows[0].domain}; add the account there`, "address");
      }
      throw new DirectoryError("not_found", `domain ${parsed.domain} is not hosted here; add it with 'correo domain add ${parsed.domain}'`, "address");
    }
    const fullAddress = `${parsed.localPart}@${parsed.domain}`;
    const taken = await db.query("SELECT 1 FROM aliases WHERE lower(address) = lower($1)", [fullAddress]);
    if (taken.rows[0]) throw new DirectoryError("duplicate", `${fullAddress} is already an alias`);
    const { rows } = await db.query<AccountRow>(
      `INSERT INTO accounts (domain_id, local_part, address, password_hash, quota_bytes, enabled)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT ((lower(address))) DO NOTHING
       RETURNING *`,
      [domainId, parsed.localPart, fullAddress, passwordHash, quotaBytes, opts.enabled ?? true],
    );
    const row = rows[0];
    if (!row) throw new DirectoryError("duplicate", `account ${fullAddress} already exists`);
    // RFC 3501 §2.3.1.1: UIDVALIDITY must change if UIDs are ever reused; seconds since epoch is the usual seed.
    const uidValidity = Math.floor(Date.now() / 1000);
    for (const mb of defaultMailboxes) {
      await db.query("INSERT INTO mailboxes (account_id, name, special_use, uid_validity) VALUES ($1, $2, $3, $4)", [
        row.id,
        mb.name,
        mb.specialUse,
        uidValidity,
      ]);
      // The default folders start subscribed, as clients expect (IMAP CREATE subscribes nothing).
      await db.query("INSERT INTO mailbox_subscriptions (account_id, name) VALUES ($1, $2)", [row.id, mb.name]);
    }
    return toAccount(row);
  });
}

export async function findAccount(db: Queryable, address: string): Promise<Account | undefined> {
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const { rows } = await db.query<AccountRow>("SELECT * FROM accounts WHERE lower(address) = lower($1)", [
    `${parsed.localPart}@${parsed.domain}`,
  ]);
  return rows[0] && toAccount(rows[0]);
}

export async function listAccounts(db: Queryable, domain?: string): Promise<Account[]> {
  const { rows } = await db.query<AccountRow>(
    `SELECT a.* FROM accounts a JOIN domains d ON d.id = a.domain_id
      WHERE $1::text IS NULL OR d.name = lower($1) ORDER BY a.address`,
    [domain ?? null],
  );
  return rows.map(toAccount);
}

export async function removeAccount(db: Queryable, address: string): Promise<void> {
  const { rowCount } = await db.query("DELETE FROM accounts WHERE lower(address) = lower($1)", [address]);
  if (!rowCount) throw new DirectoryError("not_found", `account ${address} does not exist`);
}

export async function setPassword(db: Queryable, address: string, password: string): Promise<void> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new DirectoryError("invalid", `the password must have at least ${MIN_PASSWORD_LENGTH} characters`, "password");
  }
  const { rowCount } = await db.query("UPDATE accounts SET password_hash = $2 WHERE lower(address) = lower($1)", [
    address,
    await hashPassword(password),
  ]);
  if (!rowCount) throw new DirectoryError("not_found", `account ${address} does not exist`);
}

/** Enables or disables an account (a disabled one cannot log in; its mail bounces 5.2.1). */
export async function setAccountEnabled(db: Queryable, address: string, enabled: boolean): Promise<Account> {
  const { rows } = await db.query<AccountRow>("UPDATE accounts SET enabled = $2 WHERE lower(address) = lower($1) RETURNING *", [
    address,
    enabled,
  ]);
  if (!rows[0]) throw new DirectoryError("not_found", `account ${address} does not exist`);
  return toAccount(rows[0]);
}

/** Sets (bytes) or removes (null) an account's quota. */
export async function setQuota(db: Queryable, address: string, quotaBytes: number | null): Promise<Account> {
  const { rows } = await db.query<AccountRow>("UPDATE accounts SET quota_bytes = $2 WHERE lower(address) = lower($1) RETURNING *", [
    address,
    checkQuota(quotaBytes),
  ]);
  if (!rows[0]) throw new DirectoryError("not_found", `account ${address} does not exist`);
  return toAccount(rows[0]);
}

/** Bytes the account's messages take, in all its mailboxes (what the quota limits): the folders' counters. */
export async function usedBytes(db: Queryable, accountId: number): Promise<number> {
  const { rows } = await db.query<{ used: string }>(
    "SELECT coalesce(sum(used_bytes), 0)::bigint AS used FROM mailboxes WHERE account_id = $1",
    [accountId],
  );
  return Number(rows[0]?.used ?? 0);
}

// A hash of a random password, verified when the account does not exist so that a
// failed login takes as long for an unknown user as for a wrong password.
let dummyHash: Promise<string> | undefined;

/** Checks a password against a stored hash (default: scrypt, verifyPassword). */
export type PasswordVerifier = (password: string, passwordHash: string) => Promise<boolean>;

export interface AuthenticateOptions {
  /** Logins verified a moment ago (AUTH_CACHE_TTL): with one, a client that logs in again skips scrypt. */
  cache?: AuthCache;
  verify?: PasswordVerifier;
}

/**
 * The account when `address` exists, is enabled and `password` is its password.
 * The row is read at every login; with a cache, scrypt is skipped only when these
 * exact credentials were verified against the row's current password hash within
 * the TTL. Failures are never cached and take the same path (and time) as without.
 */
export async function authenticate(db: Queryable, address: string, password: string, opts: AuthenticateOptions = {}): Promise<Account | undefined> {
  const verify = opts.verify ?? verifyPassword;
  const parsed = parseAddress(address);
  const { rows } = parsed
    ? await db.query<AccountRow>("SELECT * FROM accounts WHERE lower(address) = lower($1)", [
        `${parsed.localPart}@${parsed.domain}`,
      ])
    : { rows: [] as AccountRow[] };
  const row = rows[0];
  if (!row) {
    dummyHash ??= hashPassword("correo-timing-equaliser");
    await verify(password, await dummyHash);
    return undefined;
  }
  const cache = opts.cache?.enabled ? opts.cache : undefined;
  if (!cache) {
    const ok = await verify(password, row.password_hash);
    return ok && row.enabled ? toAccount(row) : undefined;
  }
  const key = cache.key(address, password);
  const cached = cache.get(key);
  if (cached && row.enabled && cached.accountId === row.id && cached.passwordHash === row.password_hash) {
    cache.stats.hits++;
    return toAccount(row);
  }
  // Password changed, account replaced or disabled: the entry proves nothing any more.
  if (cached) cache.forget(key);
  const ok = await cache.verifyOnce(key, row.password_hash, () => verify(password, row.password_hash));
  if (!ok || !row.enabled) return undefined;
  cache.remember(key, row.id, row.password_hash);
  return toAccount(row);
}
