import type { Queryable } from "@correo/db";
import { findAccount, findDomain, parseAddress } from "@correo/directory";
import type { RecipientFacts } from "./decide.js";

/** What the directory knows about one recipient. */
export async function lookupRecipient(db: Queryable, recipient: string): Promise<RecipientFacts> {
  const parsed = parseAddress(recipient);
  if (!parsed) return { recipient, domain: undefined, hosted: false, account: undefined };
  const domain = await findDomain(db, parsed.domain);
  if (!domain) return { recipient, domain: parsed.domain, hosted: false, account: undefined };
  const account = await findAccount(db, recipient);
  return {
    recipient,
    domain: parsed.domain,
    hosted: true,
    account: account && { id: account.id, enabled: account.enabled },
  };
}
