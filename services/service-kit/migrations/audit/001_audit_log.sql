-- Up Migration
-- Who changed what, through the HTTP API. A successful write's row is inserted in the write's own
-- transaction, so it exists exactly when the change does; a refused or failed write's row is
-- inserted after the write rolled back, in a transaction of its own.
CREATE TABLE IF NOT EXISTS audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL,
  action text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  outcome text NOT NULL CHECK (outcome IN ('succeeded', 'denied', 'rejected', 'failed')),
  status smallint NOT NULL,
  request_id text NOT NULL
);
-- GET <prefix>/audit filters by actor or resource and pages by id.
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, id);
CREATE INDEX IF NOT EXISTS audit_log_resource ON audit_log (resource_id, id);

-- Append-only for the service: it runs as the role that owns its schema, so the owner's own UPDATE,
-- DELETE and TRUNCATE privileges are revoked, and a trigger refuses the same for any other role
-- (docs/decisions/0027 says what this does not stop: the owner granting itself the privileges again).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Down Migration
DROP TABLE IF EXISTS audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
