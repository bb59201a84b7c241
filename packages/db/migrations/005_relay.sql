-- Relay queue (issue 5): DSN bookkeeping, queue management, destination state, DKIM keys.
-- (A route's TLS policy and AUTH are the transports' tls_policy and auth_* of 004.)

ALTER TABLE deliveries
  -- RFC 3464 DSNs are driven by this column, whichever service made the final decision:
  -- 'pending' until the DSN sweeper (relay-queue) has looked at the final delivery, then
  -- 'sent' (a DSN was accepted as a new message in the same transaction) or 'none'
  -- (NOTIFY did not ask for one, or the envelope sender is the null path <>).
  ADD COLUMN dsn_state          text NOT NULL DEFAULT 'pending' CHECK (dsn_state IN ('pending', 'sent', 'none')),
  -- When the "delayed" DSN (NOTIFY=DELAY, after RELAY_DELAY_WARNING) was sent; at most one.
  ADD COLUMN dsn_delay_sent_at  timestamptz,
  -- The host that gave the last reply (RFC 3464 Remote-MTA), e.g. 'mx1.example.net'.
  ADD COLUMN remote_mta         text,
  -- Held by an administrator: stays deferred, never attempted, until released.
  ADD COLUMN held_at            timestamptz;

-- Deliveries already final before this migration have had whatever notice they got.
UPDATE deliveries SET dsn_state = 'none' WHERE state IN ('delivered', 'bounced', 'expired');

-- The DSN sweeper's work lists stay small: final rows not yet looked at, deferred rows
-- whose sender asked for a delay warning and has not had it.
CREATE INDEX deliveries_dsn_pending ON deliveries (updated_at)
  WHERE dsn_state = 'pending' AND state IN ('delivered', 'bounced', 'expired');
CREATE INDEX deliveries_delay_warning ON deliveries (created_at)
  WHERE state = 'deferred' AND dsn_delay_sent_at IS NULL AND 'DELAY' = ANY (dsn_notify);
-- Queue management lists deferred deliveries by age.
CREATE INDEX deliveries_deferred ON deliveries (created_at) WHERE state = 'deferred';

-- A destination (recipient domain) whose hosts keep refusing connections is parked: its
-- deliveries wait until parked_until and are then retried as a unit, without an SMTP
-- attempt each in between (Postfix's "dead destination").
CREATE TABLE relay_destinations (
  domain        text PRIMARY KEY,
  failures      integer NOT NULL DEFAULT 0,   -- consecutive attempts on which no host answered
  parked_until  timestamptz,
  last_error    text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- DKIM signing keys of hosted domains (RFC 6376): one active key per domain.
CREATE TABLE dkim_keys (
  domain       text PRIMARY KEY REFERENCES domains (name) ON DELETE CASCADE,
  selector     text NOT NULL CHECK (selector ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'),
  private_key  text NOT NULL,   -- PEM, PKCS#8
  public_key   text NOT NULL,   -- base64 DER SubjectPublicKeyInfo: the TXT record's p=
  created_at   timestamptz NOT NULL DEFAULT now()
);
