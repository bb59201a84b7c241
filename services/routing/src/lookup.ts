import type { Queryable } from "@correo/db";
import { recipientStatus, type RecipientStatus } from "@correo/directory";
import type { RecipientFacts } from "./decide.js";

/** What the directory knows about one recipient. */
export async function lookupRecipient(db: Queryable, recipient: string, known?: RecipientStatus): Promise<RecipientFacts> {
  return { recipient, status: known ?? (await recipientStatus(db, recipient)) };
}
