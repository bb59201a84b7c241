-- Issue 13 item 4: SEARCH TEXT / BODY / HEADER answered from an index. One row per
-- blob (bodies are stored once and shared by copies): the text those keys compare,
-- decoded and case-folded as packages/mailstore/src/search.ts folds it (each header
-- value, each address as `name <mailbox@host>`, the decoded body), one piece a line.
-- RFC 3501 §6.4.4 asks for substrings, not words, so the index is pg_trgm's (a GIN
-- over trigrams serves LIKE '%needle%'), not full-text search, whose words and stems
-- cannot find "ssag" in "message". The index only narrows: every candidate is
-- checked again against the message itself.
--
-- Rows are made by the first text SEARCH that meets a blob without one. `text` is NULL
-- when the blob's text is too large to index: such a blob is always a candidate.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE blob_search_text (
  blob_id  text PRIMARY KEY REFERENCES blobs (id) ON DELETE CASCADE,
  text     text
);

CREATE INDEX blob_search_text_trgm ON blob_search_text USING gin (text gin_trgm_ops);
CREATE INDEX blob_search_text_unindexed ON blob_search_text (blob_id) WHERE text IS NULL;
