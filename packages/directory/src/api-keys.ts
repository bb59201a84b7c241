import type { Queryable } from "@correo/db";
import { newApiKeyToken, parseApiKeyToken, secretMatches, hashSecret } from "./api-key.js";
import { normalizeDomain } from "./address.js";
import { DirectoryError } from "./errors.js";

export interface ApiKey {
  id: number;
  keyId: string;
  domain: string;
  description: string | null;
  /** Test mode (issue 15): its messages are accepted and recorded delivered, never sent. */
  testMode: boolean;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: number;
  key_id: string;
  domain: string;
  description: string | null;
  test_mode: boolean;
  created_at: Date;
  revoked_at: Date | null;
  secret_hash: string;
}

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  keyId: r.key_id,
  domain: r.domain,
  description: r.description,
  testMode: r.test_mode,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** Creates a key scoped to `domain`; the token is returned once and never stored. */
export async function createApiKey(
  db: Queryable,
  domain: string,
  description?: string,
  opts: { testMode?: boolean } = {},
): Promise<ApiKey & { token: string }> {
  const name = normalizeDomain(domain);
  const d = name && (await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name])).rows[0];
  if (!d) throw new DirectoryError("not_found", `domain ${domain} is not hosted here`, "domain");
  const { keyId, secret, token } = newApiKeyToken();
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (key_id, secret_hash, domain_id, description, test_mode) VALUES ($1, $2, $3, $4, $6)
     RETURNING *, $5::text AS domain`,
    [keyId, hashSecret(secret), d.id, description ?? null, name, opts.testMode ?? false],
  );
  return { ...toApiKey(rows[0]!), token };
}

/** The key a bearer token names, when the token is valid and the key not revoked. */
export async function verifyApiKey(db: Queryable, token: string): Promise<ApiKey | undefined> {
  const parsed = parseApiKeyToken(token);
  if (!parsed) return undefined;
  // Every HTTP request asks this: named (parsed and planned once per connection), with
  // its columns spelled out so that a later migration cannot change a prepared result.
  const { rows } = await db.query<ApiKeyRow>({
    name: "directory.verify-api-key",
    text: `SELECT k.id, k.key_id, k.description, k.test_mode, k.created_at, k.revoked_at, k.secret_hash, d.name AS domain
             FROM api_keys k JOIN domains d ON d.id = k.domain_id
            WHERE k.key_id = $1 AND k.revoked_at IS NULL`,
    values: [parsed.keyId],
  });
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

/** One key by its public id (revoked ones too). */
export async function findApiKey(db: Queryable, keyId: string): Promise<ApiKey> {
  const { rows } = await db.query<ApiKeyRow>(
    "SELECT k.*, d.name AS domain FROM api_keys k JOIN domains d ON d.id = k.domain_id WHERE k.key_id = $1",
    [keyId],
  );
  if (!rows[0]) throw new DirectoryError("not_found", `API key ${keyId} does not exist`);
  return toApiKey(rows[0]);
}

export async function revokeApiKey(db: Queryable, keyId: string): Promise<void> {
  const { rowCount } = await db.query(
    "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL",
    [keyId],
  );
  if (!rowCount) throw new DirectoryError("not_found", `API key ${keyId} does not exist or is already revoked`);
}
