-- Issue 3: the HTTP submission API's tags, metadata and Idempotency-Key.

-- Tags and metadata given with POST /v1/messages, for filtering GET /v1/messages.
ALTER TABLE messages
  ADD COLUMN tags      text[] NOT NULL DEFAULT '{}',
  ADD COLUMN metadata  jsonb  NOT NULL DEFAULT '{}';
CREATE INDEX messages_tags ON messages USING gin (tags);
-- GET /v1/messages pages by (created_at, id), newest first, within the keys of one domain.
CREATE INDEX messages_api_key_created ON messages (api_key_id, created_at DESC, id DESC);

-- Idempotency-Key, per API key: the first response to a key, honoured 24 h. Written in the same
-- transaction as the message it created, so a replay can never create a second one.
CREATE TABLE idempotency_keys (
  api_key_id     bigint NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  key            text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash   text NOT NULL,                 -- SHA-256 of method, path and body
  status         integer NOT NULL,
  response       jsonb NOT NULL,
  message_id     uuid REFERENCES messages (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
