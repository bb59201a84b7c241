-- Issue 15: webhooks. Events are the timeline (delivery_events); this adds what it takes
-- to read that timeline exactly once, in commit order, without touching the hot path
-- beyond one column default, and the durable per-event-x-endpoint delivery state.

-- The writing transaction's id (PostgreSQL 13+ xid8, never wraps). delivery_events.id is
-- handed out at INSERT, not at COMMIT, so a reader that follows ids can pass over a row
-- whose transaction commits later. Every transaction not yet finished has an xid at or
-- above pg_snapshot_xmin(pg_current_snapshot()); rows below that horizon are all
-- committed (or gone), so reading (xid, id) in order up to the horizon misses and repeats
-- nothing. Old rows stay NULL (no table rewrite); they predate any endpoint.
ALTER TABLE delivery_events ADD COLUMN xid xid8;
ALTER TABLE delivery_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX delivery_events_xid ON delivery_events (xid, id) WHERE xid IS NOT NULL;
-- (The events API pages newest first by the primary key: no further index on the hot path.)

CREATE TABLE webhook_endpoints (
  id               uuid PRIMARY KEY,
  domain_id        bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  url              text NOT NULL CHECK (url ~ '^https?://'),
  event_types      text[] NOT NULL CHECK (cardinality(event_types) > 0),
  description      text,
  secret           text NOT NULL,
  -- The secret replaced by the last rotation, still signed with (a second v1) until then.
  previous_secret  text,
  previous_until   timestamptz,
  enabled          boolean NOT NULL DEFAULT true,
  disabled_reason  text,
  disabled_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (enabled = (disabled_at IS NULL))
);
CREATE INDEX webhook_endpoints_domain ON webhook_endpoints (domain_id);

-- Where the dispatcher stopped reading the timeline: one row, locked while it reads, so
-- copies take turns and no event is dispatched twice.
CREATE TABLE webhook_cursor (
  one       boolean PRIMARY KEY DEFAULT true CHECK (one),
  last_xid  xid8 NOT NULL,
  last_id   bigint NOT NULL
);
INSERT INTO webhook_cursor (last_xid, last_id) VALUES ('0'::xid8, 0);

-- An event as sent: built once, replayed byte for byte (but for the signature's time).
CREATE TABLE webhook_events (
  id          text PRIMARY KEY,            -- evt_<delivery_events.id> or evt_<uuid hex>
  domain_id   bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One per event x endpoint: the durable queue. 'pending' rows always have a next action
-- time (DESIGN: nothing stuck out of sight); the sweeper re-drives those past it.
CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  event_id         text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  state            text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  leased_until     timestamptz,
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (endpoint_id, event_id),
  CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
  id                bigserial PRIMARY KEY,
  delivery_id       bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  at                timestamptz NOT NULL,
  status            integer,                 -- NULL: no HTTP answer (timeout, refused)
  duration_ms       integer NOT NULL,
  error             text,
  response_excerpt  text,
  ok                boolean NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
-- "N failures over 24 h" counts an endpoint's recent failed attempts.
CREATE INDEX webhook_attempts_endpoint_failures ON webhook_attempts (endpoint_id, at) WHERE NOT ok;
