import { createHash } from "node:crypto";
import type { Queryable } from "@correo/db";

export function blobIdOf(content: Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** Stores `content` once, under its SHA-256; storing the same bytes again is a no-op. */
export async function putBlob(db: Queryable, content: Buffer): Promise<string> {
  const id = blobIdOf(content);
  await db.query("INSERT INTO blobs (id, size, content) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", [
    id,
    content.length,
    content,
  ]);
  return id;
}

export async function getBlob(db: Queryable, id: string): Promise<Buffer | undefined> {
  const { rows } = await db.query<{ content: Buffer }>("SELECT content FROM blobs WHERE id = $1", [id]);
  return rows[0]?.content;
}
