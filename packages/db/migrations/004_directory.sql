-- Directory, complete: catch-all and alias domains, aliases (one address → many
-- targets, local or external), admin keys, and the AUTH/TLS policy of transports.

-- A hosted domain may send mail for unknown local parts to one address (a catch-all),
-- consulted only after aliases and accounts (Postfix virtual_alias_maps '@domain').
ALTER TABLE domains ADD COLUMN catch_all text CHECK (catch_all <> '');

-- Another name for a hosted domain: alice@alias.example reaches alice@example.
-- The name is a lower-case A-label and is never also a hosted domain (checked by the directory).
CREATE TABLE domain_aliases (
  name        text PRIMARY KEY CHECK (name = lower(name) AND name <> ''),
  domain_id   bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_aliases_domain ON domain_aliases (domain_id);

-- An address of a hosted domain that expands to other addresses, local or external
-- (forwarding). Local parts are kept as written and compared case-insensitively.
CREATE TABLE aliases (
  id          bigserial PRIMARY KEY,
  domain_id   bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  address     text NOT NULL,
  targets     text[] NOT NULL CHECK (cardinality(targets) BETWEEN 1 AND 1000),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX aliases_address_key ON aliases (lower(address));
CREATE INDEX aliases_domain ON aliases (domain_id);

-- Keys of the admin API (/v1/admin/…): not scoped to a domain; stored as SHA-256 of the secret.
CREATE TABLE admin_keys (
  id           bigserial PRIMARY KEY,
  key_id       text NOT NULL UNIQUE,
  secret_hash  text NOT NULL,
  description  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

-- Transport overrides may authenticate to the next hop and set its TLS policy, with
-- Postfix's smtp_tls_security_level names: none, may (opportunistic), encrypt, verify.
ALTER TABLE transports
  ADD COLUMN auth_username text CHECK (auth_username <> ''),
  ADD COLUMN auth_password text,  -- the relay must present it, so it cannot be hashed
  ADD COLUMN tls_policy    text NOT NULL DEFAULT 'may' CHECK (tls_policy IN ('none', 'may', 'encrypt', 'verify')),
  ADD CONSTRAINT transports_auth_pair CHECK ((auth_username IS NULL) = (auth_password IS NULL));
