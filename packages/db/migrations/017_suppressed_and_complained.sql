-- Issue 15: a recipient on the sending domain's suppression list is not attempted; its
-- delivery ends in the final state 'suppressed' (no DSN: the 202/250 already said so),
-- and the timeline gains the events 'suppressed' and 'complained' (an ARF report,
-- RFC 5965, about a delivered message). Shared by the suppression list and the webhooks,
-- which turn timeline rows into events. (Issue 14 holds 015 and 016.)
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
  CHECK (state IN ('queued', 'routed', 'deferred', 'delivered', 'bounced', 'expired', 'suppressed'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_check
  CHECK ((state IN ('delivered', 'bounced', 'expired', 'suppressed')) = (next_attempt_at IS NULL));
ALTER TABLE delivery_events DROP CONSTRAINT delivery_events_event_check;
ALTER TABLE delivery_events ADD CONSTRAINT delivery_events_event_check
  CHECK (event IN ('accepted', 'routed', 'deferred', 'delivered', 'bounced', 'expired', 'suppressed', 'complained'));
