-- Up Migration
CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
-- Emails are stored lower-cased by the service, so a plain unique index is case-insensitive.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE outbox (
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
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_unsent_key ON outbox (message_key, id) WHERE sent_at IS NULL;

-- Down Migration
DROP TABLE outbox;
DROP TABLE users;
