export {
  MessageSubmitted,
  DeliveryLocal,
  JUNK_MAILBOX,
  DeliveryRemote,
  DeliveryInbound,
  MailboxChanged,
  WebhookDue,
  contracts,
  type EventType,
  type EventOf,
  type AnyEvent,
} from "./messages.js";
export { parseEvent, isEventType, ContractError } from "./validate.js";
