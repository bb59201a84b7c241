import type { Account } from "./accounts.js";
import type { AdminKey } from "./admin-keys.js";
import type { Alias } from "./aliases.js";
import type { ApiKey } from "./api-keys.js";
import type { Domain, DomainAlias } from "./domains.js";
import type { Transport } from "./transports.js";

/**
 * The directory's objects as documents: snake_case, as the admin API (/v1/admin/…)
 * returns them and `correo … --json` prints them. One mapping per object, here, so
 * that the two never disagree on a field name.
 */

export const domainDoc = (d: Domain & { accounts?: number; aliases?: string[] }) => ({
  name: d.name,
  unicode_name: d.unicodeName,
  catch_all: d.catchAll,
  inbound_policy: d.inboundPolicy,
  ...(d.accounts === undefined ? {} : { accounts: d.accounts }),
  ...(d.aliases === undefined ? {} : { alias_domains: d.aliases }),
  created_at: d.createdAt,
});

export const domainAliasDoc = (a: DomainAlias) => ({ name: a.name, unicode_name: a.unicodeName, domain: a.domain, created_at: a.createdAt });

export const accountDoc = (a: Account) => ({
  address: a.address,
  domain_id: a.domainId,
  enabled: a.enabled,
  quota_bytes: a.quotaBytes,
  created_at: a.createdAt,
});

export const aliasDoc = (a: Alias) => ({ address: a.address, domain: a.domain, targets: a.targets, created_at: a.createdAt });

/** The token is in the document only when the key was just created (it is shown once). */
export const apiKeyDoc = (k: ApiKey & { token?: string }) => ({
  key_id: k.keyId,
  domain: k.domain,
  description: k.description,
  test_mode: k.testMode,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
  ...(k.token === undefined ? {} : { token: k.token }),
});

export const adminKeyDoc = (k: AdminKey & { token?: string }) => ({
  key_id: k.keyId,
  description: k.description,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
  ...(k.token === undefined ? {} : { token: k.token }),
});

/** The AUTH password is write-only: never in a document. */
export const transportDoc = (t: Transport) => ({
  domain: t.domain,
  host: t.host,
  port: t.port,
  tls_policy: t.tlsPolicy,
  auth_username: t.auth?.username ?? null,
  created_at: t.createdAt,
});
