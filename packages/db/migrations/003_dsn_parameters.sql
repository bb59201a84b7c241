-- RFC 3461 DSN parameters given at submission (MAIL FROM RET/ENVID, RCPT TO NOTIFY/ORCPT),
-- stored per message and per recipient so that the DSN, when one is due, honours them.
-- Also the authenticated account a message was submitted by (SMTP AUTH), when any.
ALTER TABLE messages
  ADD COLUMN dsn_ret    text CHECK (dsn_ret IN ('FULL', 'HDRS')),
  ADD COLUMN dsn_envid  text,
  ADD COLUMN account_id bigint REFERENCES accounts (id) ON DELETE SET NULL;

ALTER TABLE deliveries
  -- NULL means the default: FAILURE (RFC 3461 §4.1); {NEVER} means no DSN at all.
  ADD COLUMN dsn_notify         text[] CHECK (dsn_notify <@ ARRAY['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']),
  -- ORCPT as given, e.g. 'rfc822;bob@example.com'.
  ADD COLUMN original_recipient text;
