-- Issue 15: the suppression list per sending domain, and test mode per API key.

-- One entry per (sending domain, address): mail from that domain to the address is not
-- attempted (its delivery ends 'suppressed' at accept, migration 017). Addresses are kept
-- lower-case: RFC 5321 §2.4 lets a receiver treat local parts case-sensitively, but no
-- one means "stop mailing Bob@" and not "bob@".
CREATE TABLE suppressions (
  domain_id   bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  address     text NOT NULL CHECK (address = lower(address) AND address <> ''),
  reason      text NOT NULL CHECK (reason IN ('hard-bounce', 'complaint', 'manual')),
  -- The DSN status and diagnostic, the feedback report's summary, or the operator's note.
  detail      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- The message whose bounce or complaint put the address here (none for manual entries).
  message_id  uuid REFERENCES messages (id) ON DELETE SET NULL,
  PRIMARY KEY (domain_id, address)
);
-- Listing and CSV export page by (created_at, address), newest first, within a domain.
CREATE INDEX suppressions_domain_created ON suppressions (domain_id, created_at DESC, address DESC);
-- ON DELETE SET NULL from messages needs to find the rows of a removed message.
CREATE INDEX suppressions_message ON suppressions (message_id) WHERE message_id IS NOT NULL;

ALTER TABLE messages
  -- The domain whose list was consulted at accept and that a hard bounce or a complaint
  -- about this message feeds: the API key's domain (HTTP), the authenticated sender's
  -- hosted domain (SMTP submission); NULL for MX mail, DSNs and non-hosted senders. No
  -- foreign key: deleting a domain must not scan the spool (ids are never reused).
  ADD COLUMN sending_domain_id  bigint,
  -- Sent with an API key in test mode: routed and recorded as delivered, never sent.
  ADD COLUMN test               boolean NOT NULL DEFAULT false;

-- Test mode (issue 15 item 5): the key's messages never leave the system.
ALTER TABLE api_keys ADD COLUMN test_mode boolean NOT NULL DEFAULT false;
