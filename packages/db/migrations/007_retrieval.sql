-- Tokens of the HTTP mailbox API (retrieval, issue 6): an account's owner issues them
-- with its password and an app uses them instead of the password. The token is
-- `cmt_<token_id>_<secret>`; only the SHA-256 of the random secret is kept.
CREATE TABLE mailbox_tokens (
  id            bigserial PRIMARY KEY,
  token_id      text NOT NULL UNIQUE CHECK (token_id ~ '^[0-9a-f]{16}$'),  -- public half
  secret_hash   text NOT NULL,                                             -- SHA-256 hex of the secret half
  account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  description   text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,                                               -- NULL: until revoked
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX mailbox_tokens_account ON mailbox_tokens (account_id);
