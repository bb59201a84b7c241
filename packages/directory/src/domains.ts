import type { Queryable } from "@correo/db";
import { normalizeDomain } from "./address.js";
import { DirectoryError } from "./errors.js";

export interface Domain {
  id: number;
  name: string;
  createdAt: Date;
}

export async function addDomain(db: Queryable, name: string): Promise<Domain> {
  const domain = normalizeDomain(name);
  if (!domain) throw new DirectoryError("invalid", `'${name}' is not a domain name`);
  const { rows } = await db.query<{ id: number; name: string; created_at: Date }>(
    "INSERT INTO domains (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id, name, created_at",
    [domain],
  );
  const row = rows[0];
  if (!row) throw new DirectoryError("duplicate", `domain ${domain} already exists`);
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

export async function listDomains(db: Queryable): Promise<(Domain & { accounts: number })[]> {
  const { rows } = await db.query<{ id: number; name: string; created_at: Date; accounts: number }>(
    `SELECT d.id, d.name, d.created_at, count(a.id)::int AS accounts
       FROM domains d LEFT JOIN accounts a ON a.domain_id = d.id
      GROUP BY d.id ORDER BY d.name`,
  );
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, accounts: r.accounts }));
}

export async function findDomain(db: Queryable, name: string): Promise<Domain | undefined> {
  const domain = normalizeDomain(name);
  if (!domain) return undefined;
  const { rows } = await db.query<{ id: number; name: string; created_at: Date }>(
    "SELECT id, name, created_at FROM domains WHERE name = $1",
    [domain],
  );
  const row = rows[0];
  return row && { id: row.id, name: row.name, createdAt: row.created_at };
}

export async function removeDomain(db: Queryable, name: string): Promise<void> {
  const domain = normalizeDomain(name) ?? name;
  const { rowCount } = await db.query("DELETE FROM domains WHERE name = $1", [domain]);
  if (!rowCount) throw new DirectoryError("not_found", `domain ${domain} does not exist`);
}
