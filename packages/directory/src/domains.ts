import { INBOUND_POLICIES, type InboundPolicy } from "@correo/config";
import type { Queryable } from "@correo/db";
import { domainUnicode, normalizeDomain, parseAddress } from "./address.js";
import { DirectoryError } from "./errors.js";

export interface Domain {
  id: number;
  /** Lower-case A-label form, as stored and compared. */
  name: string;
  /** U-label form of `name`, for people (equal to `name` for ASCII domains). */
  unicodeName: string;
  /** Where mail for unknown local parts goes, or null: unknown users bounce 5.1.1. */
  catchAll: string | null;
  /** What inbound mail failing authentication gets (issue 14); null: INBOUND_AUTH_POLICY. */
  inboundPolicy: InboundPolicy | null;
  createdAt: Date;
}

export interface DomainAlias {
  name: string;
  unicodeName: string;
  domain: string;
  createdAt: Date;
}

interface DomainRow {
  id: number;
  name: string;
  catch_all: string | null;
  inbound_policy: InboundPolicy | null;
  created_at: Date;
}

const toDomain = (r: DomainRow): Domain => ({
  id: r.id,
  name: r.name,
  unicodeName: domainUnicode(r.name),
  catchAll: r.catch_all,
  inboundPolicy: r.inbound_policy,
  createdAt: r.created_at,
});

function domainName(name: string): string {
  const domain = normalizeDomain(name);
  if (!domain) throw new DirectoryError("invalid", `'${name}' is not a domain name`, "name");
  return domain;
}

function catchAllAddress(address: string): string {
  const p = parseAddress(address);
  if (!p) throw new DirectoryError("invalid", `catch-all '${address}' is not an e-mail address`, "catchAll");
  return `${p.localPart}@${p.domain}`;
}

export async function addDomain(db: Queryable, name: string, opts: { catchAll?: string } = {}): Promise<Domain> {
  const domain = domainName(name);
  const catchAll = opts.catchAll === undefined ? null : catchAllAddress(opts.catchAll);
  const alias = await db.query("SELECT 1 FROM domain_aliases WHERE name = $1", [domain]);
  if (alias.rows[0]) throw new DirectoryError("duplicate", `${domain} is already an alias domain; remove it first`);
  const { rows } = await db.query<DomainRow>(
    `INSERT INTO domains (name, catch_all) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING
     RETURNING id, name, catch_all, inbound_policy, created_at`,
    [domain, catchAll],
  );
  const row = rows[0];
  if (!row) throw new DirectoryError("duplicate", `domain ${domain} already exists`);
  return toDomain(row);
}

export async function listDomains(db: Queryable): Promise<(Domain & { accounts: number; aliases: string[] })[]> {
  const { rows } = await db.query<DomainRow & { accounts: number; aliases: string[] }>(
    `SELECT d.id, d.name, d.catch_all, d.inbound_policy, d.created_at,
            (SELECT count(*)::int FROM accounts a WHERE a.domain_id = d.id) AS accounts,
            coalesce((SELECT array_agg(x.name ORDER BY x.name) FROM domain_aliases x WHERE x.domain_id = d.id), '{}') AS aliases
       FROM domains d ORDER BY d.name`,
  );
  return rows.map((r) => ({ ...toDomain(r), accounts: r.accounts, aliases: r.aliases }));
}

/** The hosted domain named `name` itself (not through an alias domain). */
export async function findDomain(db: Queryable, name: string): Promise<Domain | undefined> {
  const domain = normalizeDomain(name);
  if (!domain) return undefined;
  const { rows } = await db.query<DomainRow>("SELECT id, name, catch_all, inbound_policy, created_at FROM domains WHERE name = $1", [domain]);
  return rows[0] && toDomain(rows[0]);
}

/**
 * The hosted domain that mail for `name` belongs to: the domain itself, or the one an
 * alias domain points at. `name` is an A-label (from parseAddress).
 */
export async function resolveHostedDomain(db: Queryable, name: string): Promise<Domain | undefined> {
  const { rows } = await db.query<DomainRow>(
    `SELECT id, name, catch_all, inbound_policy, created_at FROM domains WHERE name = $1
     UNION ALL
     SELECT d.id, d.name, d.catch_all, d.inbound_policy, d.created_at FROM domain_aliases x JOIN domains d ON d.id = x.domain_id WHERE x.name = $1
     LIMIT 1`,
    [name],
  );
  return rows[0] && toDomain(rows[0]);
}

export async function removeDomain(db: Queryable, name: string): Promise<void> {
  const domain = normalizeDomain(name) ?? name;
  const { rowCount } = await db.query("DELETE FROM domains WHERE name = $1", [domain]);
  if (!rowCount) throw new DirectoryError("not_found", `domain ${domain} does not exist`);
}

/** Sets (an address) or clears (null) the catch-all of a hosted domain. */
export async function setCatchAll(db: Queryable, name: string, address: string | null): Promise<Domain> {
  const domain = domainName(name);
  const { rows } = await db.query<DomainRow>(
    "UPDATE domains SET catch_all = $2 WHERE name = $1 RETURNING id, name, catch_all, inbound_policy, created_at",
    [domain, address === null ? null : catchAllAddress(address)],
  );
  if (!rows[0]) throw new DirectoryError("not_found", `domain ${domain} does not exist`);
  return toDomain(rows[0]);
}

/** Sets the domain's inbound policy, or (null) makes it follow INBOUND_AUTH_POLICY again. */
export async function setInboundPolicy(db: Queryable, name: string, policy: string | null): Promise<Domain> {
  const domain = domainName(name);
  if (policy !== null && !(INBOUND_POLICIES as readonly string[]).includes(policy)) {
    throw new DirectoryError("invalid", `inbound policy '${policy}' is not one of ${INBOUND_POLICIES.join(", ")} (or default)`, "inbound_policy");
  }
  const { rows } = await db.query<DomainRow>(
    "UPDATE domains SET inbound_policy = $2 WHERE name = $1 RETURNING id, name, catch_all, inbound_policy, created_at",
    [domain, policy],
  );
  if (!rows[0]) throw new DirectoryError("not_found", `domain ${domain} does not exist`);
  return toDomain(rows[0]);
}

/**
 * The inbound policy of the hosted domains of `domains` (A-labels, alias domains
 * followed), null where the domain follows the default; domains not hosted are absent.
 * One statement for all the recipients of a message.
 */
export async function inboundPolicies(db: Queryable, domains: string[]): Promise<Map<string, InboundPolicy | null>> {
  const { rows } = await db.query<{ name: string; inbound_policy: InboundPolicy | null }>({
    name: "directory.inbound-policies",
    text: `SELECT d.name, d.inbound_policy FROM domains d WHERE d.name = ANY($1::text[])
           UNION ALL
           SELECT x.name, d.inbound_policy FROM domain_aliases x JOIN domains d ON d.id = x.domain_id WHERE x.name = ANY($1::text[])`,
    values: [domains],
  });
  return new Map(rows.map((r) => [r.name, r.inbound_policy]));
}

/** Makes `alias` another name of the hosted domain `target`: user@alias reaches user@target. */
export async function addDomainAlias(db: Queryable, alias: string, target: string): Promise<DomainAlias> {
  const name = domainName(alias);
  const to = await findDomain(db, target);
  if (!to) throw new DirectoryError("not_found", `domain ${target} is not hosted here; add it with 'correo domain add ${target}'`, "domain");
  if (await findDomain(db, name)) throw new DirectoryError("duplicate", `${name} is a hosted domain; it cannot also be an alias`);
  const { rows } = await db.query<{ name: string; created_at: Date }>(
    "INSERT INTO domain_aliases (name, domain_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name, created_at",
    [name, to.id],
  );
  if (!rows[0]) throw new DirectoryError("duplicate", `alias domain ${name} already exists`);
  return { name, unicodeName: domainUnicode(name), domain: to.name, createdAt: rows[0].created_at };
}

export async function removeDomainAlias(db: Queryable, alias: string): Promise<void> {
  const name = normalizeDomain(alias) ?? alias;
  const { rowCount } = await db.query("DELETE FROM domain_aliases WHERE name = $1", [name]);
  if (!rowCount) throw new DirectoryError("not_found", `alias domain ${name} does not exist`);
}

export async function listDomainAliases(db: Queryable): Promise<DomainAlias[]> {
  const { rows } = await db.query<{ name: string; domain: string; created_at: Date }>(
    `SELECT x.name, d.name AS domain, x.created_at FROM domain_aliases x JOIN domains d ON d.id = x.domain_id ORDER BY x.name`,
  );
  return rows.map((r) => ({ name: r.name, unicodeName: domainUnicode(r.name), domain: r.domain, createdAt: r.created_at }));
}
