-- Issue 15 item 3: message templates per domain (Handlebars source of the subject, the
-- text and the HTML part). A name is unique within its domain; deleting the domain
-- deletes its templates. At least one body part, as for a message from fields.
CREATE TABLE templates (
  id          bigserial PRIMARY KEY,
  domain_id   bigint NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  subject     text NOT NULL,
  text_body   text,
  html_body   text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain_id, name),
  CHECK (text_body IS NOT NULL OR html_body IS NOT NULL)
);
