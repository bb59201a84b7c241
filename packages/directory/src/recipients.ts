import type { Queryable } from "@correo/db";
import { parseAddress } from "./address.js";

/** What the directory says about mail for one address. */
export type RecipientStatus =
  | { kind: "local"; accountId: number; address: string }
  | { kind: "disabled"; accountId: number }
  | { kind: "unknown"; domain: string }
  | { kind: "not-hosted"; domain: string }
  | { kind: "invalid" };

/**
 * Whether mail for `address` lands here, and in which account. Local parts compare
 * case-insensitively; a `+tag` (plus-addressing) reaches the account without it.
 */
export async function recipientStatus(db: Queryable, address: string): Promise<RecipientStatus> {
  const parsed = parseAddress(address);
  if (!parsed) return { kind: "invalid" };
  const { rows: domains } = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [parsed.domain]);
  if (!domains[0]) return { kind: "not-hosted", domain: parsed.domain };
  const candidates = [parsed.localPart];
  const plus = parsed.localPart.indexOf("+");
  if (plus > 0) candidates.push(parsed.localPart.slice(0, plus));
  for (const local of candidates) {
    const { rows } = await db.query<{ id: number; address: string; enabled: boolean }>(
      "SELECT id, address, enabled FROM accounts WHERE lower(address) = lower($1)",
      [`${local}@${parsed.domain}`],
    );
    const account = rows[0];
    if (account) {
      return account.enabled
        ? { kind: "local", accountId: account.id, address: account.address }
        : { kind: "disabled", accountId: account.id };
    }
  }
  return { kind: "unknown", domain: parsed.domain };
}

/**
 * Whether the account may use `address` as its sender (SMTP MAIL FROM, the From:
 * header): its own address, with or without a `+tag`.
 */
export async function canSendAs(db: Queryable, accountId: number, address: string): Promise<boolean> {
  const status = await recipientStatus(db, address);
  return status.kind === "local" && status.accountId === accountId;
}
