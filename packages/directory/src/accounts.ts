import type { Pool } from "@correo/db";
import { withTransaction, type Queryable } from "@correo/db";
import { parseAddress } from "./address.js";
import { DirectoryError } from "./errors.js";
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

export async function addAccount(pool: Pool, address: string, password: string): Promise<Account> {
  const parsed = parseAddress(address);
  if (!parsed) throw new DirectoryError("invalid", `'${address}' is not an e-mail address`);
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new DirectoryError("invalid", `the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const passwordHash = await hashPassword(password);
  return withTransaction(pool, async (db) => {
    const domain = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [parsed.domain]);
    const domainId = domain.rows[0]?.id;
    if (!domainId) {
      throw new DirectoryError("not_found", `domain ${parsed.domain} is not hosted here; add it with 'correo domain add ${parsed.domain}'`);
    }
    const fullAddress = `${parsed.localPart}@${parsed.domain}`;
    const { rows } = await db.query<AccountRow>(
      `INSERT INTO accounts (domain_id, local_part, address, password_hash)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT ((lower(address))) DO NOTHING
       RETURNING *`,
      [domainId, parsed.localPart, fullAddress, passwordHash],
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
    throw new DirectoryError("invalid", `the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const { rowCount } = await db.query("UPDATE accounts SET password_hash = $2 WHERE lower(address) = lower($1)", [
    address,
    await hashPassword(password),
  ]);
  if (!rowCount) throw new DirectoryError("not_found", `account ${address} does not exist`);
}

// A hash of a random password, verified when the account does not exist so that a
// failed login takes as long for an unknown user as for a wrong password.
let dummyHash: Promise<string> | undefined;

/** The account when `address` exists, is enabled and `password` is its password. */
export async function authenticate(db: Queryable, address: string, password: string): Promise<Account | undefined> {
  const parsed = parseAddress(address);
  const { rows } = parsed
    ? await db.query<AccountRow>("SELECT * FROM accounts WHERE lower(address) = lower($1)", [
        `${parsed.localPart}@${parsed.domain}`,
      ])
    : { rows: [] as AccountRow[] };
  const row = rows[0];
  if (!row) {
    dummyHash ??= hashPassword("correo-timing-equaliser");
    await verifyPassword(password, await dummyHash);
    return undefined;
  }
  const ok = await verifyPassword(password, row.password_hash);
  return ok && row.enabled ? toAccount(row) : undefined;
}
