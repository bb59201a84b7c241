import { Type, type Static, type TSchema } from "@sinclair/typebox";

/**
 * Broker messages. Small JSON documents with a `type`, a schema `version` and ids;
 * bodies travel by reference (`blobId`, the SHA-256 of the raw message), never inline.
 */

const Uuid = Type.String({ pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" });
const BlobId = Type.String({ pattern: "^[0-9a-f]{64}$" });
const Address = Type.String({ minLength: 3, maxLength: 320 });
const EnvelopeSender = Type.String({ maxLength: 320, description: "reverse-path; empty for the null sender <>" });
const Timestamp = Type.String({ description: "ISO 8601" });

export const MessageSubmitted = Type.Object(
  {
    type: Type.Literal("message.submitted"),
    version: Type.Literal(1),
    messageId: Uuid,
    blobId: BlobId,
    envelopeFrom: EnvelopeSender,
    deliveries: Type.Array(Type.Object({ deliveryId: Uuid, recipient: Address }, { additionalProperties: false }), {
      minItems: 1,
    }),
    submittedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type MessageSubmitted = Static<typeof MessageSubmitted>;

export const DeliveryLocal = Type.Object(
  {
    type: Type.Literal("delivery.local"),
    version: Type.Literal(1),
    messageId: Uuid,
    deliveryId: Uuid,
    blobId: BlobId,
    recipient: Address,
    accountId: Type.Integer({ minimum: 1 }),
    mailbox: Type.String({ minLength: 1, description: "IMAP mailbox name, e.g. INBOX" }),
  },
  { additionalProperties: false },
);
export type DeliveryLocal = Static<typeof DeliveryLocal>;

/**
 * The `mailbox` of a delivery.local for mail the MX filed as junk (issue 14); the mailbox
 * service creates the folder, special-use \Junk (RFC 6154), for an account without it.
 */
export const JUNK_MAILBOX = "Junk";

export const DeliveryRemote = Type.Object(
  {
    type: Type.Literal("delivery.remote"),
    version: Type.Literal(1),
    messageId: Uuid,
    blobId: BlobId,
    // One event per (message, domain, reverse-path): a delivery an alias forwards carries
    // its own SRS sender (deliveries.envelope_from), the others the message's.
    envelopeFrom: Type.String({ maxLength: 320, description: "MAIL FROM of these deliveries: the message's, or an SRS address for forwarded ones; empty for <>" }),
    domain: Type.String({ minLength: 1 }),
    deliveries: Type.Array(Type.Object({ deliveryId: Uuid, recipient: Address }, { additionalProperties: false }), {
      minItems: 1,
    }),
  },
  { additionalProperties: false },
);
export type DeliveryRemote = Static<typeof DeliveryRemote>;

/**
 * A delivery to an inbound route (issue 15): relay-queue POSTs the message as JSON to
 * the route's endpoint. The route is named by id and read again at each attempt, so that
 * an edited URL or secret applies to the retries.
 */
export const DeliveryInbound = Type.Object(
  {
    type: Type.Literal("delivery.inbound"),
    version: Type.Literal(1),
    messageId: Uuid,
    deliveryId: Uuid,
    blobId: BlobId,
    envelopeFrom: EnvelopeSender,
    recipient: Address,
    routeId: Uuid,
  },
  { additionalProperties: false },
);
export type DeliveryInbound = Static<typeof DeliveryInbound>;

export const MailboxChanged = Type.Object(
  {
    type: Type.Literal("mailbox.changed"),
    version: Type.Literal(1),
    accountId: Type.Integer({ minimum: 1 }),
    mailboxId: Type.Integer({ minimum: 1 }),
    uid: Type.Integer({ minimum: 1 }),
    modseq: Type.Integer({ minimum: 1 }),
    change: Type.Union([Type.Literal("exists"), Type.Literal("expunge"), Type.Literal("flags")]),
  },
  { additionalProperties: false },
);
export type MailboxChanged = Static<typeof MailboxChanged>;

/**
 * Issue 13: an account's mailbox names or subscriptions changed (CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE through a retrieval copy). A hint for the NOTIFY sessions of the
 * other copies (RFC 5465 MailboxName, SubscriptionChange), which read the names from
 * PostgreSQL again; published without the outbox, as a lost one costs only the wait for
 * their poll (NOTIFY_POLL_MS).
 */
export const MailboxesChanged = Type.Object(
  {
    type: Type.Literal("mailboxes.changed"),
    version: Type.Literal(1),
    accountId: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type MailboxesChanged = Static<typeof MailboxesChanged>;

/**
 * Issue 15: webhook deliveries (event x endpoint, packages/webhooks) due, each for the
 * attempt named; their state is in PostgreSQL, this only says "try them now". Up to
 * 100 per message, so that the broker costs little per event.
 */
export const WebhookDue = Type.Object(
  {
    type: Type.Literal("webhook.due"),
    version: Type.Literal(1),
    deliveries: Type.Array(
      Type.Object({ id: Type.String({ pattern: "^[0-9]{1,19}$" }), attempt: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);
export type WebhookDue = Static<typeof WebhookDue>;

/** Every event type, keyed by its routing key (which is also its `type`). */
export const contracts = {
  "message.submitted": MessageSubmitted,
  "delivery.local": DeliveryLocal,
  "delivery.remote": DeliveryRemote,
  "delivery.inbound": DeliveryInbound,
  "mailbox.changed": MailboxChanged,
  "mailboxes.changed": MailboxesChanged,
  "webhook.due": WebhookDue,
} as const satisfies Record<string, TSchema>;

export type EventType = keyof typeof contracts;
export type EventOf<T extends EventType> = Static<(typeof contracts)[T]>;
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];
