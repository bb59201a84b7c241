-- Issue 13: SELECT of a large folder without reading every UID. The folder row keeps its
-- message count, in the same statements that keep uid_next and used_bytes (append, copy,
-- move, expunge, INBOX rename). UIDs are allocated 1, 2, 3 … and every allocated UID gets
-- its message, so the UIDs present are [1, uid_next) minus the expunged ones; when
-- uid_next - 1 - message_count of them are recorded in mailbox_expunges below uid_next,
-- those are exactly the gaps and SELECT reads only them (none, for a folder that never lost
-- a message). Otherwise it reads the UIDs, as before.
ALTER TABLE mailboxes ADD COLUMN message_count bigint NOT NULL DEFAULT 0;
UPDATE mailboxes m SET message_count = c.n
  FROM (SELECT mailbox_id, count(*) AS n FROM mailbox_messages GROUP BY mailbox_id) c
 WHERE c.mailbox_id = m.id;

-- Renaming INBOX used to leave INBOX's expunge history behind while its messages (and their
-- UIDVALIDITY) moved to the new folder; INBOX then reused those UIDs. An expunge recorded
-- for a UID that is present again is such a leftover: it is wrong for QRESYNC, too.
DELETE FROM mailbox_expunges e USING mailbox_messages m WHERE m.mailbox_id = e.mailbox_id AND m.uid = e.uid;
