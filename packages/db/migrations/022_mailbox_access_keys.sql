-- Issue 13 (URLAUTH, RFC 4467 §3): each mailbox's access key, the secret its URLAUTH
-- tokens are HMACs with. Made by the first GENURLAUTH for the mailbox, replaced by
-- RESETKEY (which deletes it: the next GENURLAUTH makes a new one), gone with the mailbox,
-- so a mailbox deleted and created again never honours the old one's URLs.
CREATE TABLE mailbox_access_keys (
  mailbox_id  bigint PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
  key         bytea NOT NULL CHECK (octet_length(key) = 32),
  created_at  timestamptz NOT NULL DEFAULT now()
);
