-- Issue 15 item 6: inbound routes. Mail that the MX accepts for an address or a pattern
-- of a hosted domain is POSTed as JSON to the route's URL instead of a mailbox.
-- pattern: 'local@domain' (an exact address, local part lower-cased) or '*@domain',
-- where domain is the route's hosted domain or a subdomain of it ('*@in.example.com').
-- An exact address wins over a wildcard, and a route over an account or alias of the
-- same address (the directory's recipientStatus looks routes up first).
CREATE TABLE inbound_routes (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  domain_id              bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  pattern                text NOT NULL UNIQUE CHECK (pattern = lower(pattern) AND pattern LIKE '%@%'),
  url                    text NOT NULL CHECK (url ~ '^https?://'),
  -- The route's HMAC key (Correo-Signature): Correo must sign with it, so it cannot be hashed.
  secret                 text NOT NULL CHECK (length(secret) >= 32),
  -- Attachments up to this size travel base64 inside the JSON; larger ones as a signed URL.
  inline_limit_bytes     integer NOT NULL DEFAULT 1048576 CHECK (inline_limit_bytes BETWEEN 0 AND 26214400),
  -- When the endpoint has kept failing this long after the message arrived: the fallback.
  give_up_after_seconds  integer NOT NULL DEFAULT 86400 CHECK (give_up_after_seconds BETWEEN 60 AND 2592000),
  fallback               text NOT NULL DEFAULT 'bounce' CHECK (fallback = 'bounce' OR fallback LIKE 'mailbox:%@%'),
  created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_routes_domain ON inbound_routes (domain_id);

-- A delivery to a route is routed 'inbound': relay-queue POSTs it (and retries it on the
-- relay's schedule) instead of sending it over SMTP.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_route_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_route_check CHECK (route IN ('local', 'remote', 'inbound'));
