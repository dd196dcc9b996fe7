-- Up Migration
-- Event ids this service has processed, written in the transaction of the side effect.
-- IF NOT EXISTS because databases migrated before the kit owned this table already have it,
-- created by the service's own first migration with this same definition.
CREATE TABLE IF NOT EXISTS processed_events (
  event_id uuid PRIMARY KEY,
  event_type text NOT NULL,
  topic text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS processed_events;
