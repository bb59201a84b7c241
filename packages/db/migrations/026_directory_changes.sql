-- Issue 11: every change to what decides where mail for an address goes is announced on
-- the channel correo_directory (after commit, as NOTIFY always is), so that the services'
-- in-process directory caches (packages/directory/src/cache.ts) forget what they knew.
-- Statement-level: one notification per statement, and PostgreSQL folds equal payloads
-- of one transaction into one.
CREATE FUNCTION correo_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('correo_directory', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;

CREATE TRIGGER domains_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domains
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER domain_aliases_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON domain_aliases
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER aliases_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aliases
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER inbound_routes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON inbound_routes
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
CREATE TRIGGER transports_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON transports
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
-- accounts: only the columns a recipient's answer reads (a password change, a quota or a
-- new mailbox's UIDVALIDITY counter does not change where mail goes).
CREATE TRIGGER accounts_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF address, local_part, domain_id, enabled ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION correo_directory_changed();
