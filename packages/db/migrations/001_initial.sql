-- Directory: hosted domains, their accounts and the API keys that may send as them.
CREATE TABLE domains (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name = lower(name) AND name <> ''),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  id             bigserial PRIMARY KEY,
  domain_id      bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  local_part     text NOT NULL,            -- as written; compared case-insensitively
  address        text NOT NULL,            -- local_part@domain
  password_hash  text NOT NULL,            -- scrypt, see packages/directory/src/password.ts
  enabled        boolean NOT NULL DEFAULT true,
  quota_bytes    bigint,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_address_key ON accounts (lower(address));

CREATE TABLE api_keys (
  id           bigserial PRIMARY KEY,
  key_id       text NOT NULL UNIQUE,      -- public half of the token
  secret_hash  text NOT NULL,             -- SHA-256 of the random secret half
  domain_id    bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  description  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

-- Spool: raw messages (content-addressed), their envelopes and one delivery per recipient.
CREATE TABLE blobs (
  id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),   -- SHA-256 of content
  size        integer NOT NULL,
  content     bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
  id                 uuid PRIMARY KEY,
  blob_id            text NOT NULL REFERENCES blobs (id),
  envelope_from      text NOT NULL,       -- '' is the null reverse-path <>
  header_message_id  text,
  subject            text,
  size               integer NOT NULL,
  source             text NOT NULL CHECK (source IN ('http', 'smtp', 'dsn')),
  api_key_id         bigint REFERENCES api_keys (id) ON DELETE SET NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_created_at ON messages (created_at);

CREATE TABLE deliveries (
  id               uuid PRIMARY KEY,
  message_id       uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  recipient        text NOT NULL,
  state            text NOT NULL CHECK (state IN ('queued', 'routed', 'deferred', 'delivered', 'bounced', 'expired')),
  route            text CHECK (route IN ('local', 'remote')),
  attempts         integer NOT NULL DEFAULT 0,
  -- DESIGN: every recipient not in a final state has a next action time.
  next_attempt_at  timestamptz,
  last_response    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, recipient),
  CHECK ((state IN ('delivered', 'bounced', 'expired')) = (next_attempt_at IS NULL))
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

CREATE TABLE delivery_events (
  id           bigserial PRIMARY KEY,
  delivery_id  uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT now(),
  event        text NOT NULL CHECK (event IN ('accepted', 'routed', 'deferred', 'delivered', 'bounced', 'expired')),
  detail       text
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, id);

-- Transactional outbox: events written with the state they announce, published after commit.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  routing_key  text NOT NULL,
  payload      jsonb NOT NULL,
  headers      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Mailboxes, with IMAP semantics (RFC 3501 §2.3.1.1: UIDs strictly ascending per mailbox).
CREATE TABLE mailboxes (
  id              bigserial PRIMARY KEY,
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name            text NOT NULL,
  special_use     text CHECK (special_use IN ('\Sent', '\Drafts', '\Trash', '\Junk', '\Archive', '\All', '\Flagged')),
  uid_validity    bigint NOT NULL,
  uid_next        bigint NOT NULL DEFAULT 1,
  highest_modseq  bigint NOT NULL DEFAULT 1,
  subscribed      boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name)
);

CREATE TABLE mailbox_messages (
  id             bigserial PRIMARY KEY,
  mailbox_id     bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid            bigint NOT NULL,
  blob_id        text NOT NULL REFERENCES blobs (id),
  delivery_id    uuid UNIQUE,             -- local delivery is idempotent per delivery id
  flags          text[] NOT NULL DEFAULT '{}',
  internal_date  timestamptz NOT NULL DEFAULT now(),
  size           integer NOT NULL,
  modseq         bigint NOT NULL,
  UNIQUE (mailbox_id, uid)
);
