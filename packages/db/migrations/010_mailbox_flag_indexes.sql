-- IMAP on large folders: the questions clients ask all the time without reading every row.
-- Both are partial indexes, so they hold only the messages they are about.

-- Unseen messages: SELECT's unseen count and first unseen UID (RFC 3501 §7.1 [UNSEEN]),
-- STATUS UNSEEN, and SEARCH UNSEEN/SEEN, which mail clients send on every poll.
CREATE INDEX mailbox_messages_unseen ON mailbox_messages (mailbox_id, uid)
  WHERE NOT ('\Seen' = ANY (flags));

-- Messages with a keyword ($Junk, $Label1, ...): the keywords in use that SELECT lists in
-- FLAGS and PERMANENTFLAGS (RFC 3501 §7.2.6) come from these rows only.
CREATE INDEX mailbox_messages_keywords ON mailbox_messages (mailbox_id)
  WHERE NOT (flags <@ ARRAY['\Seen', '\Answered', '\Flagged', '\Deleted', '\Draft']);
