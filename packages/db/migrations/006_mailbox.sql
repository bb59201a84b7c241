-- Mailbox store for IMAP (issue 6): parsed structure, change tracking, quotas.

-- RFC 3501 §7.4.2: ENVELOPE and BODYSTRUCTURE are computed once, at delivery or APPEND,
-- as JSON (see packages/mailstore/src/mime-structure.ts); NULL for rows stored before
-- this migration, which are described lazily on first FETCH.
ALTER TABLE mailbox_messages
  ADD COLUMN envelope        jsonb,
  ADD COLUMN body_structure  jsonb,
  ADD COLUMN sent_date       timestamptz;   -- the Date: header, for SENTBEFORE/SENTON/SENTSINCE

-- RFC 7162 §3.1: changes since a MODSEQ (flag changes and new messages) come from this index.
CREATE INDEX mailbox_messages_modseq ON mailbox_messages (mailbox_id, modseq);

-- Expunged UIDs with the MODSEQ of their expunge, so that every session (in any retrieval
-- process) can tell which of the messages it knows are gone (RFC 3501 §7.4.1 EXPUNGE).
CREATE TABLE mailbox_expunges (
  mailbox_id  bigint NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
  uid         bigint NOT NULL,
  modseq      bigint NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX mailbox_expunges_modseq ON mailbox_expunges (mailbox_id, modseq);

CREATE INDEX mailboxes_account ON mailboxes (account_id);
