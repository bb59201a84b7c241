import { randomBytes, randomUUID } from "node:crypto";
import type { Queryable } from "@correo/db";
import { checkEndpointUrl } from "./endpoint-url.js";
import { EVENT_TYPES, isEventType, type EventType } from "./events.js";

/** A webhook endpoint as the APIs show it (never its secret, but once on create/rotate). */
export interface Endpoint {
  id: string;
  domain: string;
  url: string;
  eventTypes: EventType[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A refused request, with the field at fault (HTTP problem+json, CLI message). */
export class WebhookError extends Error {
  constructor(
    readonly kind: "not-found" | "invalid",
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long the secret replaced by a rotation still signs (a second v1), so receivers can switch. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3_600_000;

const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

interface EndpointRow {
  id: string;
  domain: string;
  url: string;
  event_types: EventType[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}
const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id,
  domain: r.domain,
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const SELECT = `SELECT p.id, dm.name AS domain, p.url, p.event_types, p.description, p.enabled, p.disabled_reason,
                       p.disabled_at, p.created_at, p.updated_at
                  FROM webhook_endpoints p JOIN domains dm ON dm.id = p.domain_id`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkTypes(types: readonly string[] | undefined): EventType[] {
  if (types === undefined) return [...EVENT_TYPES];
  if (types.length === 0) throw new WebhookError("invalid", "event_types", "name at least one event type (or leave event_types out for all)");
  for (const t of types) {
    if (!isEventType(t)) throw new WebhookError("invalid", "event_types", `unknown event type '${t}'; known: ${EVENT_TYPES.join(", ")}`);
  }
  return [...new Set(types as EventType[])];
}

function checkUrl(url: string, allowHttp: boolean): string {
  const r = checkEndpointUrl(url, allowHttp);
  if (!r.ok) throw new WebhookError("invalid", "url", `${url}: ${r.error}`);
  return r.url;
}

export interface EndpointDraft {
  url: string;
  eventTypes?: readonly string[];
  description?: string | null;
}

export async function createEndpoint(
  db: Queryable,
  domain: string,
  draft: EndpointDraft,
  opts: { allowHttp: boolean; now: Date },
): Promise<{ endpoint: Endpoint; secret: string }> {
  const url = checkUrl(draft.url, opts.allowHttp);
  const types = checkTypes(draft.eventTypes);
  const secret = newSecret();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO webhook_endpoints (id, domain_id, url, event_types, description, secret, created_at, updated_at)
     SELECT $1, id, $3, $4, $5, $6, $7, $7 FROM domains WHERE name = lower($2)
     RETURNING id`,
    [randomUUID(), domain, url, types, draft.description ?? null, secret, opts.now],
  );
  if (rows.length === 0) throw new WebhookError("not-found", "domain", `no hosted domain ${domain}`);
  return { endpoint: (await getEndpoint(db, rows[0]!.id))!, secret };
}

/** One endpoint, only within `domain` when given (the HTTP API's key's domain). */
export async function getEndpoint(db: Queryable, id: string, domain?: string): Promise<Endpoint | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query<EndpointRow>(`${SELECT} WHERE p.id = $1 AND ($2::text IS NULL OR dm.name = lower($2))`, [id, domain ?? null]);
  return rows[0] ? toEndpoint(rows[0]) : undefined;
}

export async function requireEndpoint(db: Queryable, id: string, domain?: string): Promise<Endpoint> {
  const e = await getEndpoint(db, id, domain);
  if (!e) throw new WebhookError("not-found", "id", `no webhook endpoint ${id}${domain ? ` for ${domain}` : ""}`);
  return e;
}

export async function listEndpoints(db: Queryable, domain?: string): Promise<Endpoint[]> {
  const { rows } = await db.query<EndpointRow>(`${SELECT} WHERE ($1::text IS NULL OR dm.name = lower($1)) ORDER BY dm.name, p.created_at, p.id`, [domain ?? null]);
  return rows.map(toEndpoint);
}

export interface EndpointChange {
  url?: string;
  eventTypes?: readonly string[];
  description?: string | null;
  /** false disables (by hand, reason given or 'disabled by hand'); true re-enables. */
  enabled?: boolean;
  disabledReason?: string;
}

export async function updateEndpoint(
  db: Queryable,
  id: string,
  domain: string | undefined,
  change: EndpointChange,
  opts: { allowHttp: boolean; now: Date },
): Promise<Endpoint> {
  const before = await requireEndpoint(db, id, domain);
  const url = change.url !== undefined ? checkUrl(change.url, opts.allowHttp) : before.url;
  const types = change.eventTypes !== undefined ? checkTypes(change.eventTypes) : before.eventTypes;
  const description = change.description !== undefined ? change.description : before.description;
  const enabled = change.enabled ?? before.enabled;
  const reason = enabled ? null : before.enabled ? (change.disabledReason ?? "disabled by hand") : (change.disabledReason ?? before.disabledReason);
  await db.query(
    `UPDATE webhook_endpoints SET url = $2, event_types = $3, description = $4, enabled = $5, disabled_reason = $6,
            disabled_at = CASE WHEN $5 THEN NULL ELSE coalesce(disabled_at, $7) END, updated_at = $7
      WHERE id = $1`,
    [id, url, types, description, enabled, reason, opts.now],
  );
  return (await getEndpoint(db, id))!;
}

/** A new secret, shown once; the old one keeps signing for PREVIOUS_SECRET_GRACE_MS. */
export async function rotateSecret(db: Queryable, id: string, domain: string | undefined, now: Date): Promise<{ endpoint: Endpoint; secret: string }> {
  await requireEndpoint(db, id, domain);
  const secret = newSecret();
  await db.query(
    `UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, secret = $2, updated_at = $4 WHERE id = $1`,
    [id, secret, new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS), now],
  );
  return { endpoint: (await getEndpoint(db, id))!, secret };
}

export async function deleteEndpoint(db: Queryable, id: string, domain?: string): Promise<void> {
  await requireEndpoint(db, id, domain);
  // Its deliveries first, locked in id order like the worker's batches (a cascade would
  // lock them in any order and could deadlock with a batch under way).
  await db.query(
    `WITH locked AS (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id FOR UPDATE),
          gone AS (DELETE FROM webhook_deliveries w USING locked WHERE w.id = locked.id)
     DELETE FROM webhook_endpoints WHERE id = $1`,
    [id],
  );
}

/** The secrets a request is signed with at `now`: the current one, and the previous during its grace. */
export function signingSecrets(r: { secret: string; previous_secret: string | null; previous_until: Date | null }, now: Date): string[] {
  return r.previous_secret && r.previous_until && r.previous_until > now ? [r.secret, r.previous_secret] : [r.secret];
}
