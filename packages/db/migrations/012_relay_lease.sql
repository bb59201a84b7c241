-- The relay's attempt lease lives on the delivery row (it was a Redis key per delivery):
-- the claim takes it in the statement that moves next_attempt_at, the outcome's statement
-- gives it back, and an attempt that dies holds it only until it expires. Two relay-queue
-- copies never send one delivery at once, and a Redis FLUSHALL cannot lose a lease.
ALTER TABLE deliveries ADD COLUMN leased_until timestamptz;
