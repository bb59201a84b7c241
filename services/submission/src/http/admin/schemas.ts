import { Type, type Static } from "@sinclair/typebox";
import { problemJsonSchema } from "@correo/http-problem";
import { INBOUND_POLICIES, type InboundPolicy } from "@correo/config";

// Admin API documents, snake_case like the rest of the HTTP API.
const Address = Type.String({ minLength: 3, maxLength: 320, description: "an e-mail address; IDN domains in U- or A-labels" });
export const DomainName = Type.String({ minLength: 1, maxLength: 253, description: "a domain name; IDN in U- or A-labels" });
const Time = Type.String({ format: "date-time" });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** One enum (not a union of constants) so that a bad value gets one error listing the values. */
const InboundPolicyValue = (description: string) =>
  Type.Unsafe<InboundPolicy | null>({ type: ["string", "null"], enum: [...INBOUND_POLICIES, null], description });

export const DomainDoc = Type.Object({
  name: Type.String({ description: "lower-case A-label form" }),
  unicode_name: Type.String({ description: "U-label form" }),
  catch_all: Nullable(Type.String()),
  inbound_policy: InboundPolicyValue("what inbound mail failing DMARC (or SPF -all without DMARC) gets; null: the default, INBOUND_AUTH_POLICY"),
  accounts: Type.Optional(Type.Integer()),
  alias_domains: Type.Optional(Type.Array(Type.String())),
  created_at: Time,
});
export const CreateDomain = Type.Object(
  { name: DomainName, catch_all: Type.Optional(Address) },
  { additionalProperties: false },
);
export type CreateDomain = Static<typeof CreateDomain>;
export const SetCatchAll = Type.Object(
  { address: Type.Union([Address, Type.Null()], { description: "where unknown users' mail goes; null: they bounce 5.1.1" }) },
  { additionalProperties: false },
);
export type SetCatchAll = Static<typeof SetCatchAll>;
export const SetInboundPolicy = Type.Object(
  {
    policy: InboundPolicyValue(
      "enforce: DMARC p=reject and SPF -all without DMARC refused (550 5.7.1), p=quarantine to Junk; quarantine-only: both to Junk; report-only: delivered, only recorded; null: follow INBOUND_AUTH_POLICY",
    ),
  },
  { additionalProperties: false },
);
export type SetInboundPolicy = Static<typeof SetInboundPolicy>;

export const DomainAliasDoc = Type.Object({ name: Type.String(), unicode_name: Type.String(), domain: Type.String(), created_at: Time });
export const CreateDomainAlias = Type.Object(
  { name: DomainName, domain: Type.String({ description: "the hosted domain it stands for" }) },
  { additionalProperties: false },
);
export type CreateDomainAlias = Static<typeof CreateDomainAlias>;

export const AccountDoc = Type.Object({
  address: Type.String(),
  domain_id: Type.Integer(),
  enabled: Type.Boolean(),
  quota_bytes: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Time,
});
const QuotaBytes = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: "bytes; null: no quota" });
export const CreateAccount = Type.Object(
  {
    address: Address,
    password: Type.String({ minLength: 8, maxLength: 1024 }),
    quota_bytes: Type.Optional(QuotaBytes),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateAccount = Static<typeof CreateAccount>;
export const UpdateAccount = Type.Object(
  {
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
    quota_bytes: Type.Optional(QuotaBytes),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAccount = Static<typeof UpdateAccount>;

export const AliasDoc = Type.Object({ address: Type.String(), domain: Type.String(), targets: Type.Array(Type.String()), created_at: Time });
export const CreateAlias = Type.Object(
  { address: Address, targets: Type.Array(Address, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type CreateAlias = Static<typeof CreateAlias>;

export const ApiKeyDoc = Type.Object({
  key_id: Type.String(),
  domain: Type.String(),
  description: Nullable(Type.String()),
  test_mode: Type.Boolean({ description: "messages sent with the key are recorded delivered and never leave the system" }),
  created_at: Time,
  revoked_at: Nullable(Time),
  token: Type.Optional(Type.String({ description: "the key itself; shown only when created" })),
});
export const CreateApiKey = Type.Object(
  {
    domain: DomainName,
    description: Type.Optional(Type.String({ maxLength: 200 })),
    test_mode: Type.Optional(Type.Boolean({ description: "test mode: accepted, routed and recorded as delivered, never sent", default: false })),
  },
  { additionalProperties: false },
);
export type CreateApiKey = Static<typeof CreateApiKey>;

export const TransportDoc = Type.Object({
  domain: Type.String(),
  host: Type.String(),
  port: Type.Integer(),
  tls_policy: Type.String(),
  auth_username: Nullable(Type.String()),
  created_at: Time,
});
export const CreateTransport = Type.Object(
  {
    domain: Type.String({ minLength: 1, maxLength: 253, description: "a domain, or '*' for every remote domain (smarthost)" }),
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 25 })),
    tls_policy: Type.Optional(Type.Union([Type.Literal("none"), Type.Literal("may"), Type.Literal("encrypt"), Type.Literal("verify")])),
    auth: Type.Optional(
      Type.Object(
        { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateTransport = Static<typeof CreateTransport>;

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 320 }) });
export type NameParams = Static<typeof NameParams>;
export const DomainQuery = Type.Object({ domain: Type.Optional(DomainName) }, { additionalProperties: false });
export type DomainQuery = Static<typeof DomainQuery>;

/** Every admin route: an admin key (the `adminKey` scheme of /openapi.json). */
export const adminSecurity = [{ adminKey: [] as string[] }];

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: problemJsonSchema } } });

/**
 * The errors every admin route can answer, as problem+json. A route's own responses
 * come after, so a route can say more about one of them.
 */
export const adminProblems = {
  400: problem("invalid request: `errors[].field` names each field at fault"),
  401: problem("no admin key, or an unknown or revoked one"),
  404: problem("no such resource (or route)"),
  409: problem("conflicts with the current state: a duplicate, or the dead-letter queue busy or the event unroutable"),
  503: problem("a server Correo depends on (PostgreSQL, RabbitMQ) is unreachable; nothing was changed, try again after Retry-After"),
};
