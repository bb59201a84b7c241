-- Issue 14: inbound authentication at the MX (packages/trust).
-- domains.inbound_policy: what the domain does with mail failing DMARC / SPF -all;
-- NULL follows INBOUND_AUTH_POLICY (the global default). The value set is
-- @correo/config's INBOUND_POLICIES.
ALTER TABLE domains ADD COLUMN inbound_policy text
  CHECK (inbound_policy IN ('enforce', 'quarantine-only', 'report-only'));
-- messages.quarantine: the MX's verdict was "junk" (DMARC p=quarantine, or p=reject /
-- SPF -all under quarantine-only); routing delivers the local recipients to Junk.
-- A constant default: adding the column rewrites no row (PostgreSQL 11+).
ALTER TABLE messages ADD COLUMN quarantine boolean NOT NULL DEFAULT false;
