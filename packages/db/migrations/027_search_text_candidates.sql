-- Issue 13 item 4: the text SEARCH narrowing must read the trigram index. Written inline
-- (`blob_id IN (SELECT blob_id FROM blob_search_text WHERE text LIKE … OR text IS NULL)`),
-- PostgreSQL 15 planned a Seq Scan of blob_search_text, statistics or not: the planner
-- costs LIKE as one operator per row and never counts detoasting each blob's text, so the
-- scan looked cheaper than the GIN index, and ran LIKE over every text (0.75 s per
-- SEARCH FROM on a 10 000-message folder, against ~15 ms through the index). A function
-- with a SET clause is planned on its own, with that setting: here, with no Seq Scan.
CREATE FUNCTION search_text_candidates(pattern text) RETURNS SETOF text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET enable_seqscan = off
  ROWS 100
AS $$ SELECT blob_id FROM blob_search_text WHERE text LIKE pattern OR text IS NULL $$;
