-- Issue 13: FETCH (… ENVELOPE BODYSTRUCTURE), what a client's header listing asks for, sent
-- ENVELOPE and BODYSTRUCTURE rebuilt for every message from their JSON (parsed by the
-- driver, turned into response values, encoded). The append now also stores both as the
-- response text they become (Dovecot keeps BODYSTRUCTURE in its cache file the same way),
-- and FETCH sends that text as it is. NULL for rows stored before, and for a message whose
-- envelope needs a literal (a long or 8-bit string, whose form depends on UTF8=ACCEPT):
-- FETCH makes those from the JSON, as before.
ALTER TABLE mailbox_messages ADD COLUMN imap_envelope text, ADD COLUMN imap_body_structure text;
