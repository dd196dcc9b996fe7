-- Up Migration
-- The transactional outbox: events written in the transaction of the state change, published by
-- the relay. IF NOT EXISTS because databases migrated before the kit owned this table already
-- have it, created by the service's own first migration with this same definition.
CREATE TABLE IF NOT EXISTS outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  topic text NOT NULL,
  message_key text NOT NULL,
  payload text NOT NULL,
  headers jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
-- The relay reads only unsent rows, oldest first, and checks for earlier unsent rows per key.
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_unsent_key ON outbox (message_key, id) WHERE sent_at IS NULL;

-- Down Migration
DROP TABLE IF EXISTS outbox;
