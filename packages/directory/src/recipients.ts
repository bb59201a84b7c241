import type { Queryable } from "@correo/db";
import { addressKey, parseAddress, splitSubaddress } from "./address.js";
import { routeAndHostedDomain } from "./inbound-routes.js";

/**
 * What the directory says about mail for one address, one step deep:
 * - `local`: an enabled account takes it (`address` is the account's own address);
 * - `disabled`: the account exists but is disabled (5.2.1);
 * - `alias`: the address expands to `targets` (an alias, or the domain's catch-all);
 *   mail for it is accepted and routing expands it further, loop-safe;
 * - `unknown`: a hosted domain with no such user (5.1.1);
 * - `not-hosted`: another domain's address (relay, only for authenticated senders);
 * - `invalid`: not an address (5.1.3);
 * - `inbound`: an inbound route takes it (POSTed as JSON to the route's URL), with or
 *   without an account (issue 15; a route wins over an account or alias, see InboundRoute).
 */
export type RecipientStatus =
  | { kind: "local"; accountId: number; address: string }
  | { kind: "disabled"; accountId: number }
  | { kind: "alias"; address: string; targets: string[]; catchAll: boolean }
  | { kind: "unknown"; domain: string }
  | { kind: "not-hosted"; domain: string }
  | { kind: "invalid" }
  | { kind: "inbound"; routeId: string; pattern: string };

/**
 * Whether mail for `address` lands here, and where. In the order Postfix's virtual maps
 * use: an alias domain stands for its domain; then the address as written, then without
 * its `+tag` (plus-addressing: `alice+news@` reaches alice, the tag stays in the
 * envelope), each as an alias first and then an account; then the domain's catch-all.
 * Local parts compare case-insensitively; domains in A- or U-label form are the same.
 */
export async function recipientStatus(db: Queryable, address: string): Promise<RecipientStatus> {
  const parsed = parseAddress(address);
  if (!parsed) return { kind: "invalid" };
  const { route, domain } = await routeAndHostedDomain(db, address, parsed.domain);
  if (route) return { kind: "inbound", routeId: route.id, pattern: route.pattern };
  if (!domain) return { kind: "not-hosted", domain: parsed.domain };
  const { base, tag } = splitSubaddress(parsed.localPart);
  const candidates = tag === undefined ? [parsed.localPart] : [parsed.localPart, base];
  for (const local of candidates) {
    const key = `${local}@${domain.name}`;
    const { rows: aliases } = await db.query<{ address: string; targets: string[] }>(
      "SELECT address, targets FROM aliases WHERE lower(address) = lower($1)",
      [key],
    );
    if (aliases[0]) return { kind: "alias", address: aliases[0].address, targets: aliases[0].targets, catchAll: false };
    const { rows } = await db.query<{ id: number; address: string; enabled: boolean }>(
      "SELECT id, address, enabled FROM accounts WHERE lower(address) = lower($1)",
      [key],
    );
    const account = rows[0];
    if (account) {
      return account.enabled
        ? { kind: "local", accountId: account.id, address: account.address }
        : { kind: "disabled", accountId: account.id };
    }
  }
  if (domain.catchAll) return { kind: "alias", address: `@${domain.name}`, targets: [domain.catchAll], catchAll: true };
  return { kind: "unknown", domain: domain.name };
}

/**
 * Whether the account may use `address` as its sender (SMTP MAIL FROM, the From:
 * header): its own address, with or without a `+tag`, in its domain or an alias
 * domain of it, or an alias (not a catch-all) that names the account among its targets.
 */
export async function canSendAs(db: Queryable, accountId: number, address: string): Promise<boolean> {
  const status = await recipientStatus(db, address);
  if (status.kind === "local") return status.accountId === accountId;
  if (status.kind !== "alias" || status.catchAll) return false;
  const { rows } = await db.query<{ address: string }>("SELECT address FROM accounts WHERE id = $1 AND enabled", [accountId]);
  const own = rows[0] && addressKey(rows[0].address);
  return own !== undefined && status.targets.some((t) => addressKey(t) === own);
}
