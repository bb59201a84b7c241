-- Issue 14: a delivery that an alias forwards to an outside address goes out with its own
-- reverse-path (an SRS address of SRS_DOMAIN, packages/srs), so that SPF passes at the
-- next hop. NULL: the message's envelope_from, as every other delivery. DSNs still go to
-- messages.envelope_from (the original sender), never to this one.
ALTER TABLE deliveries ADD COLUMN envelope_from text;
