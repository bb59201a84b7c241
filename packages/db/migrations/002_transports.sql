-- Transport overrides (Postfix transport maps, minimal): mail for `domain` goes to
-- host:port instead of the domain's MX hosts. '*' matches every domain (a smarthost).
CREATE TABLE transports (
  domain      text PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),  -- lower-case A-label or '*'
  host        text NOT NULL CHECK (host <> ''),
  port        integer NOT NULL DEFAULT 25 CHECK (port BETWEEN 1 AND 65535),
  created_at  timestamptz NOT NULL DEFAULT now()
);
