import { randomBytes } from "node:crypto";
import type { Queryable } from "@correo/db";
import { addressKey, addressProblem, normalizeDomain, parseAddress, splitSubaddress } from "./address.js";
import { HOSTED_DOMAIN_QUERY, toDomain, type Domain, type DomainRow } from "./domains.js";
import { DirectoryError } from "./errors.js";

/**
 * An inbound route (issue 15 item 6): mail for an address or a pattern of a hosted
 * domain is POSTed as JSON to `url`, signed with `secret` (Correo-Signature), instead of
 * landing in a mailbox.
 *
 * Precedence, most specific first: the exact address (as written, then without its
 * `+tag`), then the wildcard `*@` of the recipient's domain; a route wins over an
 * account or alias of the same address, so that pointing `support@` at an app needs no
 * account to be removed first (and removing the route gives the mailbox back).
 */
export interface InboundRoute {
  id: string;
  /** The hosted domain the route belongs to (its API key's domain). */
  domain: string;
  /** `local@domain` (local part lower-cased) or `*@domain`; domain is `domain` or a subdomain of it. */
  pattern: string;
  url: string;
  secret: string;
  inlineLimitBytes: number;
  giveUpAfterSeconds: number;
  fallback: RouteFallback;
  createdAt: Date;
}

/** What happens when the endpoint keeps failing past the give-up time. */
export type RouteFallback = { kind: "bounce" } | { kind: "mailbox"; address: string };

export interface InboundRouteInput {
  pattern: string;
  url: string;
  inlineLimitBytes?: number;
  giveUpAfterSeconds?: number;
  /** `bounce` or `mailbox:<address>`. */
  fallback?: string;
}

export const DEFAULT_INLINE_LIMIT_BYTES = 1024 * 1024;
export const MAX_INLINE_LIMIT_BYTES = 25 * 1024 * 1024;
export const DEFAULT_GIVE_UP_AFTER_SECONDS = 86_400;
export const MIN_GIVE_UP_AFTER_SECONDS = 60;
export const MAX_GIVE_UP_AFTER_SECONDS = 30 * 86_400;

interface RouteRow {
  id: string;
  domain: string;
  pattern: string;
  url: string;
  secret: string;
  inline_limit_bytes: number;
  give_up_after_seconds: number;
  fallback: string;
  created_at: Date;
}

const COLUMNS = `r.id, d.name AS domain, r.pattern, r.url, r.secret, r.inline_limit_bytes, r.give_up_after_seconds, r.fallback, r.created_at`;

const toRoute = (r: RouteRow): InboundRoute => ({
  id: r.id,
  domain: r.domain,
  pattern: r.pattern,
  url: r.url,
  secret: r.secret,
  inlineLimitBytes: r.inline_limit_bytes,
  giveUpAfterSeconds: r.give_up_after_seconds,
  fallback: parseFallback(r.fallback)!,
  createdAt: r.created_at,
});

/** `bounce` or `mailbox:<address>`, or undefined when it is neither. */
export function parseFallback(text: string): RouteFallback | undefined {
  const t = text.trim();
  if (t === "bounce") return { kind: "bounce" };
  if (!t.startsWith("mailbox:")) return undefined;
  const p = parseAddress(t.slice("mailbox:".length).trim());
  return p && { kind: "mailbox", address: `${p.localPart}@${p.domain}` };
}

export const fallbackText = (f: RouteFallback): string => (f.kind === "bounce" ? "bounce" : `mailbox:${f.address}`);

/**
 * The stored form of a pattern, checked against the route's domain (pure): an exact
 * address or `*@` a domain, which must be the route's domain or a subdomain of it.
 */
export function routePattern(pattern: string, domain: string): string {
  const p = pattern.trim();
  let patternDomain: string | undefined;
  let stored: string;
  if (p.startsWith("*@")) {
    patternDomain = normalizeDomain(p.slice(2));
    if (!patternDomain) throw new DirectoryError("invalid", `pattern '${pattern}': '${p.slice(2)}' is not a domain name`, "pattern");
    stored = `*@${patternDomain}`;
  } else {
    if (p.includes("*")) throw new DirectoryError("invalid", `pattern '${pattern}': '*' may only stand for the whole local part ('*@domain')`, "pattern");
    const key = addressKey(p);
    if (!key) throw new DirectoryError("invalid", `pattern '${pattern}' ${addressProblem(p)}`, "pattern");
    patternDomain = key.slice(key.lastIndexOf("@") + 1);
    stored = key;
  }
  if (patternDomain !== domain && !patternDomain.endsWith(`.${domain}`)) {
    throw new DirectoryError("invalid", `pattern '${pattern}' is not an address of ${domain} or of a subdomain of it`, "pattern");
  }
  return stored;
}

/** The patterns that could route `address`, most specific first (see InboundRoute). */
export function routeCandidates(address: string): string[] {
  const p = parseAddress(address);
  if (!p) return [];
  const local = p.localPart.toLowerCase();
  const { base, tag } = splitSubaddress(local);
  const exact = tag === undefined ? [`${local}@${p.domain}`] : [`${local}@${p.domain}`, `${base}@${p.domain}`];
  return [...exact, `*@${p.domain}`];
}

function routeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new DirectoryError("invalid", `url '${url}' is not an absolute URL`, "url");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new DirectoryError("invalid", `url '${url}' must be http or https`, "url");
  if (u.username || u.password) throw new DirectoryError("invalid", `url '${url}' must not carry credentials; the signature authenticates Correo`, "url");
  return u.toString();
}

function integerIn(value: number | undefined, fallback: number, min: number, max: number, field: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new DirectoryError("invalid", `${field} must be an integer from ${min} to ${max}`, field);
  return v;
}

export interface InboundRouteChange {
  url?: string;
  inlineLimitBytes?: number;
  giveUpAfterSeconds?: number;
  fallback?: string;
  /** A new secret (returned once, like at creation); the old one stops signing at once. */
  rotateSecret?: boolean;
}

const newSecret = () => `whsec_${randomBytes(24).toString("base64url")}`;

async function checkedFallback(db: Queryable, text: string): Promise<RouteFallback> {
  const fallback = parseFallback(text);
  if (!fallback) throw new DirectoryError("invalid", `fallback '${text}' must be 'bounce' or 'mailbox:<address>'`, "fallback");
  if (fallback.kind === "mailbox") {
    const { rows } = await db.query("SELECT 1 FROM accounts WHERE lower(address) = lower($1) AND enabled", [fallback.address]);
    if (!rows[0]) throw new DirectoryError("invalid", `fallback mailbox ${fallback.address} is not an enabled account`, "fallback");
  }
  return fallback;
}

/** Changes a route of `domain` (its pattern stays: a new pattern is a new route). Deliveries already deferred use the new values at their next attempt. */
export async function updateInboundRoute(db: Queryable, domain: string, id: string, change: InboundRouteChange): Promise<InboundRoute> {
  const route = await findInboundRoute(db, id);
  if (!route || route.domain !== (normalizeDomain(domain) ?? domain)) throw new DirectoryError("not_found", `inbound route ${id} does not exist in ${domain}`, "id");
  const url = change.url === undefined ? route.url : routeUrl(change.url);
  const inline = integerIn(change.inlineLimitBytes ?? route.inlineLimitBytes, DEFAULT_INLINE_LIMIT_BYTES, 0, MAX_INLINE_LIMIT_BYTES, "inlineLimitBytes");
  const giveUp = integerIn(change.giveUpAfterSeconds ?? route.giveUpAfterSeconds, DEFAULT_GIVE_UP_AFTER_SECONDS, MIN_GIVE_UP_AFTER_SECONDS, MAX_GIVE_UP_AFTER_SECONDS, "giveUpAfterSeconds");
  const fallback = change.fallback === undefined ? route.fallback : await checkedFallback(db, change.fallback);
  const secret = change.rotateSecret ? newSecret() : route.secret;
  await db.query(
    "UPDATE inbound_routes SET url = $2, inline_limit_bytes = $3, give_up_after_seconds = $4, fallback = $5, secret = $6 WHERE id = $1",
    [id, url, inline, giveUp, fallbackText(fallback), secret],
  );
  return (await findInboundRoute(db, id))!;
}

/** A new route; its secret is generated here and returned once (the API shows it only now). */
export async function addInboundRoute(db: Queryable, domain: string, input: InboundRouteInput): Promise<InboundRoute> {
  const name = normalizeDomain(domain);
  const d = name && (await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name])).rows[0];
  if (!name || !d) throw new DirectoryError("not_found", `domain ${domain} is not hosted here`, "domain");
  const pattern = routePattern(input.pattern, name);
  const url = routeUrl(input.url);
  const inline = integerIn(input.inlineLimitBytes, DEFAULT_INLINE_LIMIT_BYTES, 0, MAX_INLINE_LIMIT_BYTES, "inlineLimitBytes");
  const giveUp = integerIn(input.giveUpAfterSeconds, DEFAULT_GIVE_UP_AFTER_SECONDS, MIN_GIVE_UP_AFTER_SECONDS, MAX_GIVE_UP_AFTER_SECONDS, "giveUpAfterSeconds");
  const fallback = await checkedFallback(db, input.fallback ?? "bounce");
  const secret = newSecret();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO inbound_routes (domain_id, pattern, url, secret, inline_limit_bytes, give_up_after_seconds, fallback)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (pattern) DO NOTHING RETURNING id`,
    [d.id, pattern, url, secret, inline, giveUp, fallbackText(fallback)],
  );
  if (!rows[0]) throw new DirectoryError("duplicate", `a route for ${pattern} already exists`, "pattern");
  return (await findInboundRoute(db, rows[0].id))!;
}

export async function listInboundRoutes(db: Queryable, domain: string): Promise<InboundRoute[]> {
  const { rows } = await db.query<RouteRow>(
    `SELECT ${COLUMNS} FROM inbound_routes r JOIN domains d ON d.id = r.domain_id WHERE d.name = lower($1) ORDER BY r.pattern`,
    [domain],
  );
  return rows.map(toRoute);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function findInboundRoute(db: Queryable, id: string): Promise<InboundRoute | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query<RouteRow>(`SELECT ${COLUMNS} FROM inbound_routes r JOIN domains d ON d.id = r.domain_id WHERE r.id = $1`, [id]);
  return rows[0] && toRoute(rows[0]);
}

/** The route `address` reaches, most specific pattern first; one indexed lookup. */
export async function routeFor(db: Queryable, address: string): Promise<InboundRoute | undefined> {
  const candidates = routeCandidates(address);
  if (candidates.length === 0) return undefined;
  const { rows } = await db.query<RouteRow>(
    `SELECT ${COLUMNS} FROM inbound_routes r JOIN domains d ON d.id = r.domain_id
      WHERE r.pattern = ANY($1::text[]) ORDER BY array_position($1::text[], r.pattern) LIMIT 1`,
    [candidates],
  );
  return rows[0] && toRoute(rows[0]);
}

/**
 * For recipientStatus, in one round trip (routing counts its statements per recipient):
 * the route `address` reaches, if any, and the hosted domain its domain belongs to.
 */
export async function routeAndHostedDomain(db: Queryable, address: string, domain: string): Promise<{ route?: { id: string; pattern: string }; domain?: Domain }> {
  const { rows } = await db.query<Partial<DomainRow> & { route_id: string | null; route_pattern: string | null }>(
    // An alias domain stands for its domain (as for accounts): each candidate is also
    // tried with the hosted domain's name, at the same rank.
    `WITH hosted AS (${HOSTED_DOMAIN_QUERY}), route AS (
       SELECT r.id, r.pattern FROM unnest($2::text[]) WITH ORDINALITY AS c(pattern, rank)
         JOIN inbound_routes r ON r.pattern = c.pattern OR r.pattern = (SELECT regexp_replace(c.pattern, '@[^@]*$', '@' || h.name) FROM hosted h)
        ORDER BY c.rank LIMIT 1
     )
     SELECT (SELECT id FROM route) AS route_id, (SELECT pattern FROM route) AS route_pattern, h.* FROM (SELECT 1) one LEFT JOIN hosted h ON true`,
    [domain, routeCandidates(address)],
  );
  const r = rows[0]!;
  return {
    ...(r.route_id && r.route_pattern ? { route: { id: r.route_id, pattern: r.route_pattern } } : {}),
    ...(r.id != null ? { domain: toDomain(r as DomainRow) } : {}),
  };
}

/** Removes the route `id` of `domain` (a route of another domain is not found). */
export async function removeInboundRoute(db: Queryable, domain: string, id: string): Promise<void> {
  const found = UUID.test(id)
    ? await db.query("DELETE FROM inbound_routes r USING domains d WHERE d.id = r.domain_id AND d.name = lower($1) AND r.id = $2", [domain, id])
    : { rowCount: 0 };
  if (!found.rowCount) throw new DirectoryError("not_found", `inbound route ${id} does not exist in ${domain}`, "id");
}

/** The route's document: snake_case, as the APIs return it; the secret only when just created. */
export const inboundRouteDoc = (r: InboundRoute, opts: { withSecret?: boolean } = {}) => ({
  id: r.id,
  domain: r.domain,
  pattern: r.pattern,
  url: r.url,
  inline_limit_bytes: r.inlineLimitBytes,
  give_up_after_seconds: r.giveUpAfterSeconds,
  fallback: fallbackText(r.fallback),
  ...(opts.withSecret ? { secret: r.secret } : {}),
  created_at: r.createdAt,
});
