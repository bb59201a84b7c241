import type { Queryable } from "@correo/db";
import { DirectoryError, normalizeDomain } from "@correo/directory";
import type { TemplateSource } from "./render.js";

/** What a template's name may be (the table's CHECK, migration 020, says the same). */
export const TEMPLATE_NAME_PATTERN = "^[a-z0-9][a-z0-9_.-]{0,63}$";
export const TEMPLATE_NAME_RULE = "1-64 of a-z 0-9 _ . - (lower case)";

/** A stored template (table `templates`, migration 020), its source as written. */
export interface StoredTemplate extends TemplateSource {
  name: string;
  domain: string;
  subject: string;
  text: string | null;
  html: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  name: string;
  domain: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  created_at: Date;
  updated_at: Date;
}

const toTemplate = (r: Row): StoredTemplate => ({
  name: r.name,
  domain: r.domain,
  subject: r.subject,
  text: r.text_body,
  html: r.html_body,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The admin API's and the HTTP API's document of a template (snake_case). */
export const templateDoc = (t: StoredTemplate) => ({
  name: t.name,
  domain: t.domain,
  subject: t.subject,
  text: t.text,
  html: t.html,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
});

async function domainId(db: Queryable, domain: string): Promise<{ id: number; name: string }> {
  const name = normalizeDomain(domain);
  const d = name && (await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name])).rows[0];
  if (!d) throw new DirectoryError("not_found", `domain ${domain} is not hosted here`, "domain");
  return { id: d.id, name: name! };
}

const notFound = (domain: string, name: string) => new DirectoryError("not_found", `domain ${domain} has no template '${name}'`, "name");

const SELECT = `SELECT t.name, d.name AS domain, t.subject, t.text_body, t.html_body, t.created_at, t.updated_at
                  FROM templates t JOIN domains d ON d.id = t.domain_id`;

export async function listTemplates(db: Queryable, domain: string): Promise<StoredTemplate[]> {
  const d = await domainId(db, domain);
  const { rows } = await db.query<Row>(`${SELECT} WHERE t.domain_id = $1 ORDER BY t.name`, [d.id]);
  return rows.map(toTemplate);
}

/** One template, or undefined (the send path turns that into a field error, not a 404). */
export async function findTemplate(db: Queryable, domain: string, name: string): Promise<StoredTemplate | undefined> {
  const { rows } = await db.query<Row>(`${SELECT} WHERE d.name = $1 AND t.name = $2`, [normalizeDomain(domain) ?? "", name]);
  return rows[0] && toTemplate(rows[0]);
}

export async function getTemplate(db: Queryable, domain: string, name: string): Promise<StoredTemplate> {
  await domainId(db, domain);
  const t = await findTemplate(db, domain, name);
  if (!t) throw notFound(domain, name);
  return t;
}

export async function createTemplate(db: Queryable, domain: string, t: { name: string } & TemplateSource): Promise<StoredTemplate> {
  const d = await domainId(db, domain);
  if ((t.text ?? null) === null && (t.html ?? null) === null) throw new DirectoryError("invalid", "a template needs text or html (or both)", "text");
  const { rows } = await db.query<Row>(
    `INSERT INTO templates (domain_id, name, subject, text_body, html_body) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (domain_id, name) DO NOTHING
     RETURNING name, $6::text AS domain, subject, text_body, html_body, created_at, updated_at`,
    [d.id, t.name, t.subject, t.text ?? null, t.html ?? null, d.name],
  );
  if (!rows[0]) throw new DirectoryError("duplicate", `domain ${d.name} already has a template '${t.name}'`, "name");
  return toTemplate(rows[0]);
}

/** Replaces the given parts (null clears text or html); the table keeps at least one body part. */
export async function updateTemplate(
  db: Queryable,
  domain: string,
  name: string,
  change: { subject?: string; text?: string | null; html?: string | null },
): Promise<StoredTemplate> {
  const d = await domainId(db, domain);
  const { rows } = await db.query<Row>(
    `UPDATE templates SET
        subject   = CASE WHEN $3 THEN $4 ELSE subject END,
        text_body = CASE WHEN $5 THEN $6 ELSE text_body END,
        html_body = CASE WHEN $7 THEN $8 ELSE html_body END,
        updated_at = now()
      WHERE domain_id = $1 AND name = $2
        AND (CASE WHEN $5 THEN $6 ELSE text_body END IS NOT NULL OR CASE WHEN $7 THEN $8 ELSE html_body END IS NOT NULL)
      RETURNING name, $9::text AS domain, subject, text_body, html_body, created_at, updated_at`,
    [d.id, name, change.subject !== undefined, change.subject ?? null, change.text !== undefined, change.text ?? null, change.html !== undefined, change.html ?? null, d.name],
  );
  if (rows[0]) return toTemplate(rows[0]);
  await getTemplate(db, domain, name); // 404 when there is none
  throw new DirectoryError("invalid", "a template needs text or html: this change would leave neither", "text");
}

export async function deleteTemplate(db: Queryable, domain: string, name: string): Promise<void> {
  const d = await domainId(db, domain);
  const { rowCount } = await db.query("DELETE FROM templates WHERE domain_id = $1 AND name = $2", [d.id, name]);
  if (rowCount === 0) throw notFound(d.name, name);
}
