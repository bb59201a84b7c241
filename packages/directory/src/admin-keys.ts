import type { Queryable } from "@correo/db";
import { hashSecret, newApiKeyToken, parseApiKeyToken, secretMatches } from "./api-key.js";
import { DirectoryError } from "./errors.js";

/** A key of the admin API (/v1/admin/…): manages the whole directory, sends no mail. */
export interface AdminKey {
  id: number;
  keyId: string;
  description: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

interface AdminKeyRow {
  id: number;
  key_id: string;
  description: string | null;
  created_at: Date;
  revoked_at: Date | null;
  secret_hash: string;
}

const toAdminKey = (r: AdminKeyRow): AdminKey => ({
  id: r.id,
  keyId: r.key_id,
  description: r.description,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** Creates an admin key; the token (`correoadmin_<id>_<secret>`) is returned once and never stored. */
export async function createAdminKey(db: Queryable, description?: string): Promise<AdminKey & { token: string }> {
  const { keyId, secret, token } = newApiKeyToken("correoadmin");
  const { rows } = await db.query<AdminKeyRow>(
    "INSERT INTO admin_keys (key_id, secret_hash, description) VALUES ($1, $2, $3) RETURNING *",
    [keyId, hashSecret(secret), description ?? null],
  );
  return { ...toAdminKey(rows[0]!), token };
}

export async function verifyAdminKey(db: Queryable, token: string): Promise<AdminKey | undefined> {
  const parsed = parseApiKeyToken(token, "correoadmin");
  if (!parsed) return undefined;
  const { rows } = await db.query<AdminKeyRow>("SELECT * FROM admin_keys WHERE key_id = $1 AND revoked_at IS NULL", [parsed.keyId]);
  const row = rows[0];
  return row && secretMatches(parsed.secret, row.secret_hash) ? toAdminKey(row) : undefined;
}

export async function listAdminKeys(db: Queryable): Promise<AdminKey[]> {
  const { rows } = await db.query<AdminKeyRow>("SELECT * FROM admin_keys ORDER BY created_at, id");
  return rows.map(toAdminKey);
}

export async function revokeAdminKey(db: Queryable, keyId: string): Promise<void> {
  const { rowCount } = await db.query("UPDATE admin_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", [keyId]);
  if (!rowCount) throw new DirectoryError("not_found", `admin key ${keyId} does not exist or is already revoked`);
}
