import { createHash } from "node:crypto";
import type { Queryable } from "@correo/db";
import type { QueryConfig } from "pg";

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

/** Result columns as the bytes PostgreSQL sent (binary format): a bytea arrives as itself, not as hex text twice its size. */
const asBytes = { getTypeParser: () => (value: Buffer) => value };

export async function getBlob(db: Queryable, id: string): Promise<Buffer | undefined> {
  const query: QueryConfig & { binary: boolean } = { text: "SELECT content FROM blobs WHERE id = $1", values: [id], binary: true, types: asBytes as QueryConfig["types"] };
  const { rows } = await db.query<{ content: Buffer }>(query);
  return rows[0]?.content;
}

/**
 * The octets one read of `blobChunks` takes, and about what one reader holds at a time.
 * Large messages are mostly base64 attachments, which PostgreSQL stores uncompressed: a
 * slice costs its own size (49 MB in 0.5 s at 1 MiB, 0.4 s at 4 MiB). A compressible
 * value (TOAST pglz) is decompressed from its start for every slice, so a 46 MB text
 * costs 2.3 s at 1 MiB (0.6 s at 4 MiB); 1 MiB keeps a busy server's memory down.
 */
export const BLOB_CHUNK_OCTETS = 1024 * 1024;


/** The blob's length in octets, or undefined when there is no blob by that id. */
export async function blobSize(db: Queryable, id: string): Promise<number | undefined> {
  const { rows } = await db.query<{ size: number }>("SELECT size FROM blobs WHERE id = $1", [id]);
  return rows[0]?.size;
}

/**
 * A blob's content in slices of `chunkOctets` (substring() on the bytea, one query each),
 * read only as the consumer asks for the next one: a large message is never whole in
 * memory, and no pool client is held while the consumer waits (a slow POP3 client).
 * Blobs are immutable and never deleted, so the slices add up to the stored bytes.
 */
export async function* blobChunks(db: Queryable, id: string, size: number, chunkOctets = BLOB_CHUNK_OCTETS): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < size; offset += chunkOctets) {
    // `binary` is pg's (Query's config.binary), missing from @types/pg.
    const slice: QueryConfig & { binary: boolean } = {
      text: "SELECT substring(content FROM $2 FOR $3) AS chunk FROM blobs WHERE id = $1",
      values: [id, offset + 1, chunkOctets], // substring() counts from 1
      binary: true,
      types: asBytes as QueryConfig["types"],
    };
    const { rows } = await db.query<{ chunk: Buffer }>(slice);
    const chunk = rows[0]?.chunk;
    if (!chunk || chunk.length === 0) throw new Error(`blob ${id} ended at ${offset} of ${size} octets`);
    yield chunk;
  }
}

/** A blob as `readBlobs` returns it: its size, and its octets when small enough. */
export interface ReadBlob {
  size: number;
  /** Undefined for a blob larger than the caller's limit: read it with `blobChunks`. */
  content: Buffer | undefined;
}

const TEXT_OID = 25;
const INT4_OID = 23;
/** Binary result columns decoded: text and int4 here, bytea as itself. */
const binaryColumns = {
  getTypeParser: (oid: number) => (value: Buffer) => (oid === TEXT_OID ? value.toString("utf8") : oid === INT4_OID ? value.readInt32BE(0) : value),
};

/**
 * Several blobs in one query (a POP3 session reading ahead): each one's size, and the
 * content of those of at most `maxContentOctets`. Ids without a blob are absent.
 */
export async function readBlobs(db: Queryable, ids: readonly string[], maxContentOctets: number): Promise<Map<string, ReadBlob>> {
  const query: QueryConfig & { binary: boolean } = {
    text: "SELECT id, size, CASE WHEN size <= $2 THEN content END AS content FROM blobs WHERE id = ANY($1::text[])",
    values: [ids, maxContentOctets],
    binary: true,
    types: binaryColumns as QueryConfig["types"],
  };
  const { rows } = await db.query<{ id: string; size: number; content: Buffer | null }>(query);
  return new Map(rows.map((r) => [r.id, { size: r.size, content: r.content ?? undefined }]));
}

/** The largest value of an int4: `readBlobs` with it reads every content whole. */
const WHOLE = 2 ** 31 - 1;

/** Several blobs' contents, whole, in one query (binary format); ids without a blob are absent. */
export async function readContents(db: Queryable, ids: readonly string[]): Promise<Map<string, Buffer>> {
  const blobs = await readBlobs(db, [...new Set(ids)], WHOLE);
  return new Map([...blobs].map(([id, b]) => [id, b.content!]));
}
