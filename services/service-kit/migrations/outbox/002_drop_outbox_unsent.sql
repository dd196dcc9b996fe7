-- Up Migration
-- The relay deletes rows as it publishes them, so the table holds unsent rows only and the primary
-- key already lists them oldest first; where an earlier image left rows marked sent, the claim
-- reads the unsent ones through outbox_unsent_key. This index only cost every insert a write.
DROP INDEX IF EXISTS outbox_unsent;

-- Down Migration
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
