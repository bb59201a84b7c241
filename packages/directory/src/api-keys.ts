import type { Queryable } from "@correo/db";
import { newApiKeyToken, parseApiKeyToken, secretMatches, hashSecret } from "./api-key.js";
import { normalizeDomain } from "./address.js";
import { DirectoryError } from "./errors.js";

export interface ApiKey {
  id: number;
  keyId: string;
  domain: string;
  description: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: number;
  key_id: string;
  domain: string;
  description: string | null;
  created_at: Date;
  revoked_at: Date | null;
  secret_hash: string;
}

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  keyId: r.key_id,
  domain: r.domain,
  description: r.description,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** Creates a key scoped to `domain`; the token is returned once and never stored. */
export async function createApiKey(
  db: Queryable,
  domain: string,
  description?: string,
): Promise<ApiKey & { token: string }> {
  const name = normalizeDomain(domain);
  const d = name && (await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name])).rows[0];
  if (!d) throw new DirectoryError("not_found", `domain ${domain} is not hosted here`, "domain");
  const { keyId, secret, token } = newApiKeyToken();
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (key_id, secret_hash, domain_id, description) VALUES ($1, $2, $3, $4)
     RETURNING *, $5::text AS domain`,
    [keyId, hashSecret(secret), d.id, description ?? null, name],
  );
  return { ...toApiKey(rows[0]!), token };
}

/** The key a bearer token names, when the token is valid and the key not revoked. */
export async function verifyApiKey(db: Queryable, token: string): Promise<ApiKey | undefined> {
  const parsed = parseApiKeyToken(token);
  if (!parsed) return undefined;
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT k.*, d.name AS domain FROM api_keys k JOIN domains d ON d.id = k.domain_id
      WHERE k.key_id = $1 AND k.revoked_at IS NULL`,
    [parsed.keyId],
  );
  const row = rows[0];
  return row && secretMatches(parsed.secret, row.secret_hash) ? toApiKey(row) : undefined;
}

export async function listApiKeys(db: Queryable, domain?: string): Promise<ApiKey[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT k.*, d.name AS domain FROM api_keys k JOIN domains d ON d.id = k.domain_id
      WHERE $1::text IS NULL OR d.name = lower($1) ORDER BY k.created_at`,
    [domain ?? null],
  );
  return rows.map(toApiKey);
}

export async function revokeApiKey(db: Queryable, keyId: string): Promise<void> {
  const { rowCount } = await db.query(
    "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
    [keyId],
  );
  if (!rowCount) throw new DirectoryError("not_found", `API key ${keyId} does not exist or is already revoked`);
}
