export {
  parseAddress,
  normalizeDomain,
  domainUnicode,
  addressKey,
  splitSubaddress,
  unroutable,
  addressProblem,
  type ParsedAddress,
} from "./address.js";
export {
  parseMailbox,
  MAX_LOCAL_PART_OCTETS,
  MAX_DOMAIN_OCTETS,
  MAX_MAILBOX_OCTETS,
  type Mailbox,
  type MailboxSyntax,
  type MailboxOptions,
} from "./mailbox-syntax.js";
export { parseHeaderMailbox, type HeaderMailbox, type HeaderMailboxSyntax } from "./header-address.js";
export { DirectoryError, type DirectoryErrorCode } from "./errors.js";
export { hashPassword, verifyPassword } from "./password.js";
export { AuthCache, DEFAULT_AUTH_CACHE_ENTRIES, type AuthCacheOptions, type CachedLogin } from "./auth-cache.js";
export {
  addDomain,
  listDomains,
  findDomain,
  resolveHostedDomain,
  removeDomain,
  setCatchAll,
  setInboundPolicy,
  inboundPolicies,
  addDomainAlias,
  removeDomainAlias,
  listDomainAliases,
  type Domain,
  type DomainAlias,
} from "./domains.js";
export {
  addAccount,
  findAccount,
  listAccounts,
  removeAccount,
  setPassword,
  setAccountEnabled,
  setQuota,
  usedBytes,
  authenticate,
  type AuthenticateOptions,
  type PasswordVerifier,
  defaultMailboxes,
  MIN_PASSWORD_LENGTH,
  type Account,
  type AccountOptions,
} from "./accounts.js";
export { addAlias, listAliases, findAlias, removeAlias, MAX_ALIAS_TARGETS, type Alias } from "./aliases.js";
export { createApiKey, verifyApiKey, listApiKeys, findApiKey, revokeApiKey, type ApiKey } from "./api-keys.js";
export { createAdminKey, verifyAdminKey, listAdminKeys, revokeAdminKey, type AdminKey } from "./admin-keys.js";
export {
  addTransport,
  listTransports,
  removeTransport,
  findTransport,
  ANY_DOMAIN,
  TLS_POLICIES,
  type Transport,
  type TransportOptions,
  type TlsPolicy,
} from "./transports.js";
export { recipientStatus, canSendAs, type RecipientStatus } from "./recipients.js";
export { resolveRecipient, postmasterForm, type PostmasterForm, type PostmasterOptions } from "./postmaster.js";
export { domainDoc, domainAliasDoc, accountDoc, aliasDoc, apiKeyDoc, adminKeyDoc, transportDoc } from "./documents.js";
export {
  addInboundRoute,
  listInboundRoutes,
  findInboundRoute,
  removeInboundRoute,
  updateInboundRoute,
  routeFor,
  routePattern,
  routeCandidates,
  parseFallback,
  fallbackText,
  inboundRouteDoc,
  DEFAULT_INLINE_LIMIT_BYTES,
  DEFAULT_GIVE_UP_AFTER_SECONDS,
  MAX_INLINE_LIMIT_BYTES,
  MIN_GIVE_UP_AFTER_SECONDS,
  MAX_GIVE_UP_AFTER_SECONDS,
  type InboundRoute,
  type InboundRouteInput,
  type InboundRouteChange,
  type RouteFallback,
} from "./inbound-routes.js";
export { DirectoryCache, uncachedDirectory, DIRECTORY_CHANNEL, type DirectoryLookups, type DirectoryCacheOptions } from "./cache.js";
