import type { Queryable } from "@correo/db";

export interface StoredMessage {
  id: string;
  blobId: string;
  envelopeFrom: string;
  headerMessageId: string | null;
  subject: string | null;
  size: number;
  source: string;
  createdAt: Date;
}

export async function loadMessage(db: Queryable, id: string): Promise<StoredMessage | undefined> {
  const { rows } = await db.query<{
    id: string;
    blob_id: string;
    envelope_from: string;
    header_message_id: string | null;
    subject: string | null;
    size: number;
    source: string;
    created_at: Date;
  }>("SELECT * FROM messages WHERE id = $1", [id]);
  const r = rows[0];
  return (
    r && {
      id: r.id,
      blobId: r.blob_id,
      envelopeFrom: r.envelope_from,
      headerMessageId: r.header_message_id,
      subject: r.subject,
      size: r.size,
      source: r.source,
      createdAt: r.created_at,
    }
  );
}
