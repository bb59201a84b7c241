-- Issue 13: IMAP state that outlives one mailbox row or one session.

-- RFC 3501 §2.3.2 \Recent: a message is recent for the first session that SELECTs its mailbox
-- after it arrived. recent_uid is the highest UID some SELECT (not EXAMINE) has claimed; the
-- claiming session sees UIDs above the old value as \Recent. Mail already here is not recent.
ALTER TABLE mailboxes ADD COLUMN recent_uid bigint NOT NULL DEFAULT 0;
UPDATE mailboxes SET recent_uid = uid_next - 1;

-- RFC 3501 §2.3.1.1: a UIDVALIDITY is never reused for a mailbox name, even after DELETE and
-- CREATE in the same second. Each new UIDVALIDITY of an account comes from this counter, which
-- only goes up (and never below the clock, in seconds, the usual seed).
ALTER TABLE accounts ADD COLUMN last_uid_validity bigint NOT NULL DEFAULT 0;
UPDATE accounts a SET last_uid_validity = m.top
  FROM (SELECT account_id, max(uid_validity) AS top FROM mailboxes GROUP BY account_id) m
 WHERE m.account_id = a.id;

-- RFC 3501 §6.3.6: subscriptions are names, kept apart from the mailboxes: DELETE leaves a
-- subscription behind (LIST-EXTENDED reports it \NonExistent, RFC 5258 §3.4), CREATE makes none.
CREATE TABLE mailbox_subscriptions (
  account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name        text NOT NULL,
  PRIMARY KEY (account_id, name)
);
INSERT INTO mailbox_subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed;
ALTER TABLE mailboxes DROP COLUMN subscribed;
