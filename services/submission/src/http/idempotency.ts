import { createHash } from "node:crypto";
import type { Queryable } from "@correo/db";

/** How long a key is honoured (the issue, Stripe's and the IETF draft's 24 h). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** draft-ietf-httpapi-idempotency-key-header: a key replays only the same request. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash("sha256").update(`${method} ${path}\n${JSON.stringify(body)}`).digest("hex");
}

export type IdempotencyLookup =
  | { kind: "new" }
  | { kind: "replay"; response: StoredResponse }
  | { kind: "mismatch" };

/** Decides what a request with a known key gets: its first response, or 422 for a different body. */
export function decideIdempotency(stored: { requestHash: string; response: StoredResponse } | undefined, requestHash: string): IdempotencyLookup {
  if (!stored) return { kind: "new" };
  return stored.requestHash === requestHash ? { kind: "replay", response: stored.response } : { kind: "mismatch" };
}

export async function findIdempotent(
  db: Queryable,
  apiKeyId: number,
  key: string,
  now: Date,
): Promise<{ requestHash: string; response: StoredResponse } | undefined> {
  const { rows } = await db.query<{ request_hash: string; status: number; response: unknown }>(
    `SELECT request_hash, status, response FROM idempotency_keys
      WHERE api_key_id = $1 AND key = $2 AND created_at > $3`,
    [apiKeyId, key, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS)],
  );
  const r = rows[0];
  return r && { requestHash: r.request_hash, response: { status: r.status, body: r.response } };
}

/**
 * Claims `key` inside the caller's transaction. False when another request holds or
 * committed it: the unique key makes a concurrent twin wait for the first to commit,
 * then lose; the caller rolls back and answers with the first response.
 */
export async function claimIdempotent(db: Queryable, apiKeyId: number, key: string, requestHash: string, now: Date): Promise<boolean> {
  await db.query("DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2 AND created_at <= $3", [
    apiKeyId,
    key,
    new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
  ]);
  const { rowCount } = await db.query(
    `INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, response, created_at)
     VALUES ($1, $2, $3, 0, 'null', $4) ON CONFLICT DO NOTHING`,
    [apiKeyId, key, requestHash, now],
  );
  return rowCount === 1;
}

export async function recordIdempotent(db: Queryable, apiKeyId: number, key: string, messageId: string, response: StoredResponse): Promise<void> {
  await db.query("UPDATE idempotency_keys SET status = $3, response = $4, message_id = $5 WHERE api_key_id = $1 AND key = $2", [
    apiKeyId,
    key,
    response.status,
    JSON.stringify(response.body),
    messageId,
  ]);
}
