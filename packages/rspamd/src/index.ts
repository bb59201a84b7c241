export { RspamdClient, checkMessage, type RspamdClientOptions, type CheckResult, type FailureReason } from "./client.js";
export { requestHeaders, type CheckEnvelope } from "./request.js";
export { parseAnswer, RSPAMD_ACTIONS, type RspamdAction, type RspamdAnswer, type HeaderField } from "./answer.js";
export { decideSpam, subjectFieldValue, SPAM_HEADERS, type SpamDecision, type SpamPolicy } from "./decide.js";
