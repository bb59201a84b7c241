-- Issue 11: an append costs the same in an empty folder and in one of a million messages.
-- Quota usage is a counter kept with the append (and with COPY, MOVE, EXPUNGE), per mailbox so
-- that it changes in the very UPDATE that allocates the UID and goes away with its folder;
-- an account's usage is the sum over its folders (a handful of rows), never over its messages.
ALTER TABLE mailboxes ADD COLUMN used_bytes bigint NOT NULL DEFAULT 0;
UPDATE mailboxes m SET used_bytes = s.used
  FROM (SELECT mailbox_id, sum(size) AS used FROM mailbox_messages GROUP BY mailbox_id) s
 WHERE s.mailbox_id = m.id;

-- Issue 10 item 5: the RFC 1047 window. A client that lost the 250 after its final dot sends the
-- message again; the copy differs only in its trace fields. One row per account, Message-ID and
-- digest (packages/mailstore/src/fingerprint.ts) says which delivery stored it first and when, so
-- a later delivery of the same message within the window is recorded as a duplicate, not stored.
CREATE TABLE mailbox_fingerprints (
  account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  header_message_id  text NOT NULL,
  digest             bytea NOT NULL,          -- SHA-256 of the message without its trace fields
  delivery_id        uuid NOT NULL,           -- the delivery that stored it (mailbox_messages.delivery_id)
  stored_at          timestamptz NOT NULL,
  PRIMARY KEY (account_id, header_message_id, digest)
);
-- Rows older than the window are pruned by the mailbox service.
CREATE INDEX mailbox_fingerprints_stored_at ON mailbox_fingerprints (stored_at);
