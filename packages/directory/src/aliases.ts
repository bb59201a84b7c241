import type { Queryable } from "@correo/db";
import { addressKey, addressProblem, parseAddress } from "./address.js";
import { DirectoryError } from "./errors.js";

/**
 * An address of a hosted domain that expands to other addresses: local accounts, other
 * aliases, or external addresses (forwarding). Routing expands them, loop-safe.
 */
export interface Alias {
  id: number;
  address: string;
  domain: string;
  targets: string[];
  createdAt: Date;
}

interface AliasRow {
  id: number;
  address: string;
  domain: string;
  targets: string[];
  created_at: Date;
}

const toAlias = (r: AliasRow): Alias => ({ id: r.id, address: r.address, domain: r.domain, targets: r.targets, createdAt: r.created_at });

/** Most targets one alias may have (the table's CHECK says the same). */
export const MAX_ALIAS_TARGETS = 1000;

function targetList(targets: string[]): string[] {
  if (targets.length === 0) throw new DirectoryError("invalid", "an alias needs at least one target address", "targets");
  if (targets.length > MAX_ALIAS_TARGETS) throw new DirectoryError("invalid", `an alias has at most ${MAX_ALIAS_TARGETS} targets`, "targets");
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of targets) {
    const p = parseAddress(t.trim());
    if (!p) throw new DirectoryError("invalid", `target '${t}' ${addressProblem(t.trim())}`, "targets");
    const written = `${p.localPart}@${p.domain}`;
    const key = addressKey(written)!;
    if (!seen.has(key)) out.push(written);
    seen.add(key);
  }
  return out;
}

export async function addAlias(db: Queryable, address: string, targets: string[]): Promise<Alias> {
  const parsed = parseAddress(address);
  if (!parsed) throw new DirectoryError("invalid", `'${address}' ${addressProblem(address)}`, "address");
  const list = targetList(targets);
  const full = `${parsed.localPart}@${parsed.domain}`;
  if (list.some((t) => addressKey(t) === addressKey(full))) {
    throw new DirectoryError("invalid", `alias ${full} cannot have itself as a target`, "targets");
  }
  const domain = (await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [parsed.domain])).rows[0];
  if (!domain) throw new DirectoryError("not_found", `domain ${parsed.domain} is not hosted here; add it with 'correo domain add ${parsed.domain}'`, "address");
  const account = await db.query("SELECT 1 FROM accounts WHERE lower(address) = lower($1)", [full]);
  if (account.rows[0]) throw new DirectoryError("duplicate", `${full} is already an account`);
  const { rows } = await db.query<AliasRow>(
    `INSERT INTO aliases (domain_id, address, targets) VALUES ($1, $2, $3)
     ON CONFLICT ((lower(address))) DO NOTHING
     RETURNING id, address, targets, created_at, $4::text AS domain`,
    [domain.id, full, list, parsed.domain],
  );
  if (!rows[0]) throw new DirectoryError("duplicate", `alias ${full} already exists`);
  return toAlias(rows[0]);
}

export async function listAliases(db: Queryable, domain?: string): Promise<Alias[]> {
  const { rows } = await db.query<AliasRow>(
    `SELECT a.id, a.address, a.targets, a.created_at, d.name AS domain
       FROM aliases a JOIN domains d ON d.id = a.domain_id
      WHERE $1::text IS NULL OR d.name = lower($1) ORDER BY lower(a.address)`,
    [domain ?? null],
  );
  return rows.map(toAlias);
}

/** The alias at exactly `address` (case-insensitive local part, A-label domain), if any. */
export async function findAlias(db: Queryable, address: string): Promise<Alias | undefined> {
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const { rows } = await db.query<AliasRow>(
    `SELECT a.id, a.address, a.targets, a.created_at, d.name AS domain
       FROM aliases a JOIN domains d ON d.id = a.domain_id WHERE lower(a.address) = lower($1)`,
    [`${parsed.localPart}@${parsed.domain}`],
  );
  return rows[0] && toAlias(rows[0]);
}

export async function removeAlias(db: Queryable, address: string): Promise<void> {
  const parsed = parseAddress(address);
  const full = parsed ? `${parsed.localPart}@${parsed.domain}` : address;
  const { rowCount } = await db.query("DELETE FROM aliases WHERE lower(address) = lower($1)", [full]);
  if (!rowCount) throw new DirectoryError("not_found", `alias ${full} does not exist`);
}
