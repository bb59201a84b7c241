import { Type, type Static } from "@sinclair/typebox";
import { TEMPLATE_NAME_PATTERN } from "@correo/templates";
import { Variables as TemplateVariables } from "../templates/schemas.js";

// No CR or LF anywhere a header value comes from: that is how header injection works.
// No NUL either: RFC 5322 §2.2 allows none in a field, and PostgreSQL text keeps none.
const HeaderText = (maxLength: number, description: string) =>
  Type.String({ maxLength, pattern: "^[^\\r\\n\\u0000]*$", description });
// Addresses: the address parser refuses a NUL itself, saying which field and why.
const AddressField = Type.String({ maxLength: 998, pattern: "^[^\\r\\n]*$", description: "an address, optionally with a display name: 'Ana <ana@example.com>'" });
const AddressList = Type.Union([AddressField, Type.Array(AddressField, { maxItems: 1000 })], { description: "an address or a list of addresses" });

const Tags = Type.Array(Type.String({ pattern: "^[A-Za-z0-9_.:-]{1,64}$" }), {
  maxItems: 20,
  uniqueItems: true,
  description: "labels to find the message by later (GET /v1/messages?tag=…)",
});
const Metadata = Type.Record(Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$" }), Type.String({ maxLength: 1000, pattern: "^[^\\u0000]*$" }), {
  maxProperties: 50,
  description: "your own key → value pairs, returned with the message; never added to the message itself",
});

export const SendMessageBody = Type.Object(
  {
    from: AddressField,
    to: Type.Optional(AddressList),
    cc: Type.Optional(AddressList),
    bcc: Type.Optional(AddressList),
    reply_to: Type.Optional(AddressField),
    subject: Type.Optional(HeaderText(998, "Subject header")),
    text: Type.Optional(Type.String({ description: "plain-text body" })),
    html: Type.Optional(Type.String({ description: "HTML body" })),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[!-9;-~]+$", maxLength: 76 }), HeaderText(998, "header value"), {
        description: "extra headers, name → value",
      }),
    ),
    attachments: Type.Optional(
      Type.Array(
        Type.Object(
          {
            filename: HeaderText(255, "file name"),
            content: Type.String({ description: "base64", pattern: "^[A-Za-z0-9+/\\s]*={0,2}\\s*$" }),
            content_type: Type.Optional(HeaderText(255, "MIME type, e.g. application/pdf")),
            content_id: Type.Optional(HeaderText(255, "Content-ID for inline images (cid:)")),
          },
          { additionalProperties: false },
        ),
        { maxItems: 100 },
      ),
    ),
    template: Type.Optional(
      Type.String({ pattern: TEMPLATE_NAME_PATTERN, description: "a template's name (POST /v1/templates): its subject, text and html instead of these fields" }),
    ),
    variables: Type.Optional(TemplateVariables),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
  },
  {
    additionalProperties: false,
    description: "a message for Correo to compose (MIME) and send: subject, text and html, or a template and its variables",
    examples: [
      { from: "Shop <orders@example.com>", to: "ana@example.net", subject: "Your order", text: "It is on its way." },
      { from: "Shop <orders@example.com>", to: "Ana <ana@example.net>", template: "welcome", variables: { first_name: "Ana" }, tags: ["welcome"] },
    ],
  },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

export const RawMessageBody = Type.Object(
  {
    from: Type.String({ maxLength: 998, pattern: "^[^\\r\\n<>]*$", description: "envelope sender (MAIL FROM), a bare address" }),
    to: Type.Union([Type.String({ maxLength: 998, pattern: "^[^\\r\\n<>]*$" }), Type.Array(Type.String({ maxLength: 998, pattern: "^[^\\r\\n<>]*$" }), { minItems: 1, maxItems: 1000 })], {
      description: "envelope recipients (RCPT TO), bare addresses",
    }),
    message: Type.Optional(Type.String({ description: "the complete RFC 5322 message as text (header, empty line, body)" })),
    message_base64: Type.Optional(
      Type.String({ pattern: "^[A-Za-z0-9+/\\s]*={0,2}\\s*$", description: "the same, base64-encoded (for 8-bit or binary content)" }),
    ),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false, description: "a complete message and its envelope, sent as it is (Correo adds only trace fields)" },
);
export type RawMessageBody = Static<typeof RawMessageBody>;

export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({ pattern: "^[\\x21-\\x7e]{1,255}$", description: "repeat a request safely: the same key and body within 24 h returns the first response" }),
  ),
});
export type IdempotencyHeaders = Static<typeof IdempotencyHeaders>;

export const RecipientStatus = Type.Object({
  address: Type.String(),
  delivery_id: Type.String(),
  status: Type.String({
    description: "queued, or suppressed: the address is on the sending domain's suppression list; that recipient is not sent to (final, no DSN), the others are",
    examples: ["queued", "suppressed"],
  }),
});

export const AcceptedResponse = Type.Object({
  id: Type.String({ description: "Correo's message id" }),
  message_id: Type.String({ description: "the Message-ID header" }),
  recipients: Type.Array(RecipientStatus),
});

const DeliveryEvent = Type.Object({
  at: Type.String(),
  event: Type.String({ description: "accepted, routed, deferred, delivered, bounced, expired, suppressed or complained" }),
  detail: Type.Union([Type.String(), Type.Null()], { description: "the remote reply, the mailbox, or the reason" }),
});

/** What a message's status and its line in a list share. */
const MessageHead = {
  id: Type.String(),
  message_id: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  tags: Type.Array(Type.String()),
  metadata: Type.Record(Type.String(), Type.String()),
  test: Type.Boolean({ description: "sent with an API key in test mode: recorded as delivered, never sent" }),
};

export const MessageStatusResponse = Type.Object({
  ...MessageHead,
  recipients: Type.Array(
    Type.Object({
      address: Type.String(),
      delivery_id: Type.String(),
      status: Type.String({ description: "queued, routed, deferred, delivered, bounced, expired or suppressed" }),
      last_response: Type.Union([Type.String(), Type.Null()]),
      events: Type.Array(DeliveryEvent),
    }),
  ),
});

export const MessageSummary = Type.Object({
  ...MessageHead,
  recipients: Type.Array(Type.Object({ address: Type.String(), status: Type.String() })),
});

export const MessageListResponse = Type.Object({
  data: Type.Array(MessageSummary),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: "pass as ?cursor= for the next page; null on the last" }),
});

export const DeliveryStateName = Type.Union(
  ["queued", "routed", "deferred", "delivered", "bounced", "expired", "suppressed"].map((s) => Type.Literal(s)),
);

export const ListMessagesQuery = Type.Object(
  {
    status: Type.Optional(DeliveryStateName),
    tag: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_.:-]{1,64}$" })),
    to: Type.Optional(Type.String({ maxLength: 998, description: "messages to this recipient" })),
    from: Type.Optional(Type.String({ maxLength: 998, description: "messages from this envelope sender" })),
    since: Type.Optional(Type.String({ format: "date-time", description: "created at or after" })),
    until: Type.Optional(Type.String({ format: "date-time", description: "created before" })),
    // A query string is text, and the API validates without type coercion.
    limit: Type.Optional(Type.String({ pattern: "^([1-9][0-9]?|100)$", description: "page size, 1-100 (default 20)" })),
    cursor: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_-]{1,200}$" })),
  },
  { additionalProperties: false },
);
export type ListMessagesQuery = Static<typeof ListMessagesQuery>;

export const MessageParams = Type.Object({
  id: Type.String({ pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" }),
});
export type MessageParams = Static<typeof MessageParams>;

/** RFC 9457 problem details, as every error is answered. */
export const ProblemResponse = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { description: "application/problem+json; `errors` names each field at fault" },
);

export const problemResponses = {
  400: ProblemResponse,
  401: ProblemResponse,
  403: ProblemResponse,
  404: ProblemResponse,
  409: ProblemResponse,
  413: ProblemResponse,
  422: ProblemResponse,
  503: ProblemResponse,
};
