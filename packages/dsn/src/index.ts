export { renderDsn, dsnSubject, rfc5322Date, headerOf, FULL_RETURN_LIMIT, type DsnInput, type DsnRecipient } from "./render.js";
export { dsnStatusOf, stripWhere, decodeXtext, type DsnAction, type DsnStatus } from "./status.js";
export { noticeFor, type Notice, type NoticeFacts, type NotifyKeyword } from "./notice.js";
