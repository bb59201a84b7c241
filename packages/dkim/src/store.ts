import type { Queryable } from "@correo/db";

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
  publicKey: string;
  createdAt: Date;
}

interface Row {
  domain: string;
  selector: string;
  private_key: string;
  public_key: string;
  created_at: Date;
}

const toKey = (r: Row): DkimKey => ({
  domain: r.domain,
  selector: r.selector,
  privateKey: r.private_key,
  publicKey: r.public_key,
  createdAt: r.created_at,
});

/** A refused key operation, with a code the CLI and the admin API show. */
export class DkimKeyError extends Error {
  constructor(
    readonly code: "not_hosted" | "invalid" | "not_found",
    message: string,
  ) {
    super(message);
    this.name = "DkimKeyError";
  }
}

/** Stores (or replaces) the signing key of a hosted domain. */
export async function saveDkimKey(db: Queryable, domain: string, selector: string, key: { privateKey: string; publicKey: string }): Promise<DkimKey> {
  const d = domain.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(selector)) {
    throw new DkimKeyError("invalid", `selector '${selector}' must be letters, digits and '-' (RFC 6376 §3.1)`);
  }
  try {
    const { rows } = await db.query<Row>(
      `INSERT INTO dkim_keys (domain, selector, private_key, public_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (domain) DO UPDATE SET selector = $2, private_key = $3, public_key = $4, created_at = now()
       RETURNING *`,
      [d, selector, key.privateKey, key.publicKey],
    );
    return toKey(rows[0]!);
  } catch (err) {
    if ((err as { code?: string }).code === "23503") {
      throw new DkimKeyError("not_hosted", `${d} is not a hosted domain (add it first: correo domain add ${d})`);
    }
    throw err;
  }
}

/** The key of `domain`, if it has one. */
export async function findDkimKey(db: Queryable, domain: string): Promise<DkimKey | undefined> {
  const { rows } = await db.query<Row>("SELECT * FROM dkim_keys WHERE domain = $1", [domain.toLowerCase()]);
  return rows[0] && toKey(rows[0]);
}

export async function listDkimKeys(db: Queryable): Promise<DkimKey[]> {
  const { rows } = await db.query<Row>("SELECT * FROM dkim_keys ORDER BY domain");
  return rows.map(toKey);
}

export async function removeDkimKey(db: Queryable, domain: string): Promise<void> {
  const { rowCount } = await db.query("DELETE FROM dkim_keys WHERE domain = $1", [domain.toLowerCase()]);
  if (!rowCount) throw new DkimKeyError("not_found", `${domain} has no DKIM key`);
}
