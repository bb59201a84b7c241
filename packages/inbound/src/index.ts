export { buildPayload, attachmentOf, authenticationResults, type InboundPayload, type InboundAttachment, type PayloadInput } from "./payload.js";
export { attachmentPath } from "./links.js";
