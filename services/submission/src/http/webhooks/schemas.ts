import { Type, type Static } from "@sinclair/typebox";
import { EVENT_TYPES } from "@correo/webhooks";

// Webhook endpoints and events, snake_case like the rest of the HTTP API.
const Time = Type.String({ format: "date-time" });
const Uuid = Type.String({ pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" });
const EventTypeName = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)));
const EventTypes = Type.Array(EventTypeName, { minItems: 1, uniqueItems: true, description: "the events sent to it; left out: all" });
const Url = Type.String({ minLength: 8, maxLength: 2048, description: "https:// (http:// only where WEBHOOK_ALLOW_HTTP=true)" });
const Description = Type.Union([Type.String({ maxLength: 200 }), Type.Null()]);

export const EndpointDoc = Type.Object(
  {
    id: Uuid,
    domain: Type.String(),
    url: Type.String(),
    event_types: Type.Array(Type.String()),
    description: Description,
    enabled: Type.Boolean(),
    disabled_reason: Type.Union([Type.String(), Type.Null()], { description: "why it was disabled (by hand, or for failing)" }),
    disabled_at: Type.Union([Time, Type.Null()]),
    created_at: Time,
    updated_at: Time,
    secret: Type.Optional(Type.String({ description: "the signing secret; shown only on create and rotate" })),
  },
  {
    examples: [
      {
        id: "3b1f7a52-0c7e-4f0e-9d0a-6f7e1c2b9a41",
        domain: "example.com",
        url: "https://app.example.com/hooks/correo",
        event_types: ["delivered", "bounced", "complained"],
        description: "orders app",
        enabled: true,
        disabled_reason: null,
        disabled_at: null,
        created_at: "2026-12-02T10:00:00.000Z",
        updated_at: "2026-12-02T10:00:00.000Z",
        secret: "whsec_4hXv0m1o8Yb2kQp7cS3nD5eF6gH9jK0lM1nO2pQ3rS4",
      },
    ],
  },
);
export const EndpointResponse = Type.Object({ webhook: EndpointDoc });
export const EndpointList = Type.Object({ webhooks: Type.Array(EndpointDoc) });

export const CreateEndpoint = Type.Object(
  { url: Url, event_types: Type.Optional(EventTypes), description: Type.Optional(Description) },
  { additionalProperties: false, examples: [{ url: "https://app.example.com/hooks/correo", event_types: ["delivered", "bounced"] }] },
);
export type CreateEndpoint = Static<typeof CreateEndpoint>;
export const UpdateEndpoint = Type.Object(
  {
    url: Type.Optional(Url),
    event_types: Type.Optional(EventTypes),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ description: "false disables it; true re-enables one disabled by hand or for failing" })),
    disabled_reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ enabled: false, disabled_reason: "maintenance until Monday" }] },
);
export type UpdateEndpoint = Static<typeof UpdateEndpoint>;

export const EventDoc = Type.Object(
  {
    id: Type.String({ description: "stable: the same in every push, replay and pull" }),
    type: Type.String(),
    created_at: Time,
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  {
    examples: [
      {
        id: "evt_1042",
        type: "bounced",
        created_at: "2026-12-02T10:00:03.512Z",
        data: {
          message_id: "0b4f4bf4-3c1a-4a57-9d6e-2f1b3f9c8e11",
          header_message_id: "<0b4f4bf4-3c1a-4a57-9d6e-2f1b3f9c8e11@mail.example.com>",
          recipient: "bo@example.net",
          tags: ["welcome"],
          metadata: { user: "7" },
          bounce_class: "hard",
          status: "5.1.1",
          diagnostic: "550 5.1.1 <bo@example.net>: Recipient address rejected: User unknown",
          remote_mta: "mx1.example.net",
        },
      },
    ],
  },
);
export const EventPage = Type.Object({
  events: Type.Array(EventDoc),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: "pass as cursor for the next (older) page" }),
});
export const EventQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ description: "comma-separated event types" })),
    recipient: Type.Optional(Type.String({ maxLength: 320 })),
    message_id: Type.Optional(Type.String({ description: "the message's id (a UUID)" })),
    tag: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.String({ format: "date-time", description: "inclusive" })),
    until: Type.Optional(Type.String({ format: "date-time", description: "exclusive" })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$", description: "1–100, default 50" })),
    domain: Type.Optional(Type.String({ description: "admin only: one domain's events" })),
  },
  { additionalProperties: false },
);
export type EventQuery = Static<typeof EventQuery>;

export const AttemptDoc = Type.Object({
  id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  at: Time,
  status: Type.Union([Type.Integer(), Type.Null()], { description: "the HTTP status; null: no answer" }),
  duration_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  response_excerpt: Type.Union([Type.String(), Type.Null()], { description: "the first 1024 characters of the answer" }),
  ok: Type.Boolean(),
});
export const AttemptPage = Type.Object({ attempts: Type.Array(AttemptDoc), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export const AttemptQuery = Type.Object(
  {
    event_id: Type.Optional(Type.String({ maxLength: 100 })),
    cursor: Type.Optional(Type.String({ pattern: "^[0-9]{1,19}$" })),
    limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$" })),
  },
  { additionalProperties: false },
);
export type AttemptQuery = Static<typeof AttemptQuery>;

export const TestResult = Type.Object({
  event: EventDoc,
  status: Type.Union([Type.Integer(), Type.Null()]),
  ok: Type.Boolean(),
  duration_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  response_excerpt: Type.Union([Type.String(), Type.Null()]),
});
export const ReplayResult = Type.Object({ event_id: Type.String(), webhook_delivery_id: Type.String(), state: Type.Literal("pending") });

export const IdParams = (admin: boolean) =>
  Type.Object({ ...(admin ? { domain: Type.String({ minLength: 1, maxLength: 253 }) } : {}), id: Uuid });
export const ReplayParams = (admin: boolean) =>
  Type.Object({ ...(admin ? { domain: Type.String({ minLength: 1, maxLength: 253 }) } : {}), id: Uuid, event_id: Type.String({ pattern: "^evt_[0-9a-f]{1,32}$" }) });
export const DomainParams = Type.Object({ domain: Type.String({ minLength: 1, maxLength: 253 }) });
