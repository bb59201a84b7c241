-- The W3C traceparent of the request or session that submitted a message, so that work
-- picked up much later (relay retries from the Redis schedule) can link back to the
-- message's trace instead of starting an unrelated one.
ALTER TABLE messages ADD COLUMN traceparent text;
