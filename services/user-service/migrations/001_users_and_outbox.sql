-- Up Migration
-- The outbox and processed_events tables come from the kit's migrations (service-kit/migrations),
-- which run first; databases migrated when this file still created them keep theirs.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
-- Emails are stored lower-cased by the service, so a plain unique index is case-insensitive.
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Down Migration
DROP TABLE users;
