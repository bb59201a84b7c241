export { parseAddress, normalizeDomain, type ParsedAddress } from "./address.js";
export { DirectoryError, type DirectoryErrorCode } from "./errors.js";
export { hashPassword, verifyPassword } from "./password.js";
export { addDomain, listDomains, findDomain, removeDomain, type Domain } from "./domains.js";
export {
  addAccount,
  findAccount,
  listAccounts,
  removeAccount,
  setPassword,
  authenticate,
  defaultMailboxes,
  MIN_PASSWORD_LENGTH,
  type Account,
} from "./accounts.js";
export { createApiKey, verifyApiKey, listApiKeys, revokeApiKey, type ApiKey } from "./api-keys.js";
export { addTransport, listTransports, removeTransport, findTransport, ANY_DOMAIN, type Transport } from "./transports.js";
export { recipientStatus, canSendAs, type RecipientStatus } from "./recipients.js";
