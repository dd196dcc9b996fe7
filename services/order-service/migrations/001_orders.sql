-- Up Migration
-- The outbox and processed_events tables come from the kit's migrations (service-kit/migrations),
-- which run first; databases migrated when this file still created them keep theirs.

-- What order-service knows about users, built from user.created; orders may only reference these.
CREATE TABLE known_users (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES known_users (id),
  status text NOT NULL CHECK (status IN ('pending', 'processed', 'rejected')),
  items jsonb NOT NULL,
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  created_at timestamptz NOT NULL,
  processed_at timestamptz
);
CREATE INDEX orders_by_user ON orders (user_id, created_at);

-- Down Migration
DROP TABLE orders;
DROP TABLE known_users;
