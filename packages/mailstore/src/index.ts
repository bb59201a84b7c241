export { MailStore, type MailStoreOptions } from "./mail-store.js";
export { binaryPartsAsBase64 } from "./binary-parts.js";
export { mailboxAccessKey, resetAccessKeys } from "./access-keys.js";
export { describeMessage, parseParamHeader, type BodyPart, type Envelope, type EnvelopeAddress, type MessageDescription } from "./mime-structure.js";
export { normalizeMailboxName, invalidMailboxName, HIERARCHY_DELIMITER } from "./names.js";
export { decodeTransfer, decodeWords, partText, searchMessages, type SearchKey, type SearchOptions } from "./search.js";
export { accountQuota, wouldExceed } from "./quota.js";
export { appendToMailbox, type AppendInput, type AppendOutcome } from "./append.js";
export { messageFingerprint } from "./fingerprint.js";
export { lockMailbox, createMailbox } from "./mailboxes.js";
export {
  isRefusal,
  type AppendResult,
  type ChangeSink,
  type Changes,
  type ExpungeResult,
  type FlagUpdate,
  type Mailbox,
  type MailboxSnapshot,
  type MailboxStatus,
  type MailstoreRefusal,
  type MessagePage,
  type MessageRecord,
  type Quota,
  type StoreMode,
  type StoreResult,
  type TransferResult,
} from "./types.js";
