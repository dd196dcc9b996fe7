-- Up Migration
-- Responses of writes sent with an Idempotency-Key, per route, replayed when a client retries.
-- A key's row is inserted in the transaction of the write it guards: a concurrent request with the
-- same key waits for that transaction, and a write that rolls back leaves no key behind. status and
-- response are set before that transaction commits.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  route text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer,
  response text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (route, key)
);
-- Cleanup deletes keys past their retention, oldest first.
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);

-- Down Migration
DROP TABLE IF EXISTS idempotency_keys;
