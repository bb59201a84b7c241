import type { Queryable } from "@correo/db";
import { addressKey, parseAddress } from "./address.js";
import { recipientStatus, type RecipientStatus } from "./recipients.js";

/**
 * RFC 5321 §4.5.1 (a MUST): every SMTP server accepts mail for `postmaster` — the bare
 * `<Postmaster>` (§4.1.1.3, no domain, any case) and `postmaster@` each hosted domain
 * (RFC 2142 §5 asks the same of every mail domain).
 */
export type PostmasterForm = "bare" | "domain";

/** Whether `address` is a postmaster address, and in which form; undefined when it is not. */
export function postmasterForm(address: string): PostmasterForm | undefined {
  if (address.toLowerCase() === "postmaster") return "bare";
  const parsed = parseAddress(address);
  return parsed && parsed.localPart.toLowerCase() === "postmaster" ? "domain" : undefined;
}

/** Where postmaster mail goes when a domain has no postmaster of its own (POSTMASTER_ADDRESS). */
export interface PostmasterOptions {
  /** The configured address; undefined: `postmaster@` the primary domain (the first hosted). */
  postmaster?: string | undefined;
}

/** The first hosted domain added: the operator's own, by the time any other is. */
async function primaryDomain(db: Queryable): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM domains ORDER BY created_at, id LIMIT 1");
  return rows[0]?.name;
}

/**
 * The directory's answer for a recipient, with postmaster always reachable:
 * - `postmaster@domain` of a hosted domain is what the directory says when the domain
 *   has its own (an alias or an enabled account named postmaster); otherwise it is an
 *   alias of the configured postmaster (the catch-all does not take it: postmaster is
 *   for the people who run the mail, not a domain's sink);
 * - the bare `Postmaster` is an alias of the configured postmaster.
 * Routing expands such an alias like any other, so both the SMTP listeners (RCPT) and
 * routing ask here. A configured postmaster that is the very address asked about (a
 * loop), or that the directory cannot deliver to, is no place to send it: the
 * directory's own answer stands, and the operator sees postmaster refused.
 */
export async function resolveRecipient(db: Queryable, address: string, opts: PostmasterOptions = {}): Promise<RecipientStatus> {
  const form = postmasterForm(address);
  const status = form === "bare" ? undefined : await recipientStatus(db, address);
  if (status && (form === undefined || !lacksPostmaster(status))) return status;
  const target = opts.postmaster ?? (await primaryDomain(db).then((d) => d && `postmaster@${d}`));
  if (!target) return status ?? { kind: "invalid" };
  if (form === "domain" && addressKey(target) === addressKey(address)) return status!;
  // A postmaster that would bounce is no postmaster: refuse now rather than accept and bounce.
  const reaches = await recipientStatus(db, target);
  if (reaches.kind === "unknown" || reaches.kind === "disabled" || reaches.kind === "invalid") {
    return status ?? { kind: "unknown", domain: parseAddress(target)?.domain ?? "" };
  }
  return { kind: "alias", address, targets: [target], catchAll: false };
}

/** A hosted domain's answer that leaves postmaster without a mailbox of the domain's own. */
function lacksPostmaster(status: RecipientStatus): boolean {
  return status.kind === "unknown" || status.kind === "disabled" || (status.kind === "alias" && status.catchAll);
}
