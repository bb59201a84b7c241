/**
 * Tokens of the HTTP mailbox API: `cmt_<tokenId>_<secret>`. The token id finds the
 * row; the secret is 32 random bytes of which only the SHA-256 is stored (a fast hash
 * is enough for a random secret, unlike for passwords). Issued with the account's
 * password, used by apps instead of it, revoked by id.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Queryable } from "@correo/db";

export interface MailboxToken {
  tokenId: string;
  accountId: number;
  description: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** The account a valid token stands for. */
export interface TokenAccount {
  id: number;
  address: string;
  tokenId: string;
}

const TOKEN = /^cmt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function newToken(): { tokenId: string; secret: string; token: string } {
  const tokenId = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { tokenId, secret, token: `cmt_${tokenId}_${secret}` };
}

export function parseToken(token: string): { tokenId: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { tokenId: m[1]!, secret: m[2]! } : undefined;
}

const sha256 = (secret: string) => createHash("sha256").update(secret).digest();

interface TokenRow {
  token_id: string;
  account_id: number;
  description: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const toToken = (r: TokenRow): MailboxToken => ({
  tokenId: r.token_id,
  accountId: r.account_id,
  description: r.description,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
});

const COLUMNS = "token_id, account_id, description, created_at, expires_at, last_used_at";

/** Issues a token for `accountId`; the token is returned once and never stored. */
export async function issueToken(
  db: Queryable,
  accountId: number,
  opts: { description?: string; expiresInSeconds?: number },
): Promise<MailboxToken & { token: string }> {
  const { tokenId, secret, token } = newToken();
  const { rows } = await db.query<TokenRow>(
    `INSERT INTO mailbox_tokens (token_id, secret_hash, account_id, description, expires_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(secs => $5::int) END)
     RETURNING ${COLUMNS}`,
    [tokenId, sha256(secret).toString("hex"), accountId, opts.description ?? null, opts.expiresInSeconds ?? null],
  );
  return { ...toToken(rows[0]!), token };
}

/** The account behind a token that is well-formed, known, not revoked, not expired and of an enabled account. */
export async function verifyToken(db: Queryable, token: string): Promise<TokenAccount | undefined> {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  const { rows } = await db.query<{ secret_hash: string; account_id: number; address: string }>(
    `SELECT t.secret_hash, t.account_id, a.address FROM mailbox_tokens t JOIN accounts a ON a.id = t.account_id
      WHERE t.token_id = $1 AND a.enabled AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [parsed.tokenId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const stored = Buffer.from(row.secret_hash, "hex");
  const given = sha256(parsed.secret);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
  // Last use to the minute: enough to tell stale tokens, without a write per request.
  await db.query(
    "UPDATE mailbox_tokens SET last_used_at = now() WHERE token_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    [parsed.tokenId],
  );
  return { id: row.account_id, address: row.address, tokenId: parsed.tokenId };
}

/** The account's tokens that can still be used, oldest first. */
export async function listTokens(db: Queryable, accountId: number): Promise<MailboxToken[]> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${COLUMNS} FROM mailbox_tokens
      WHERE account_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
      ORDER BY created_at, id`,
    [accountId],
  );
  return rows.map(toToken);
}

/** Revokes one of the account's tokens; false when it has none by that id (or it is revoked already). */
export async function revokeToken(db: Queryable, accountId: number, tokenId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE mailbox_tokens SET revoked_at = now() WHERE account_id = $1 AND token_id = $2 AND revoked_at IS NULL",
    [accountId, tokenId],
  );
  return (rowCount ?? 0) > 0;
}
