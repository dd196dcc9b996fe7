-- Up Migration
-- The outbox and processed_events tables come from the kit's migrations (service-kit/migrations),
-- which run first; databases migrated when this file still created them keep theirs.

-- One row per notification, created once per event; the delivery worker moves it through
-- pending -> sent, or pending -> retrying -> ... -> sent | failed.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  event_type text NOT NULL,
  user_id uuid NOT NULL,
  type text NOT NULL CHECK (type IN ('welcome', 'order_confirmation')),
  recipient text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sent', 'retrying', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status IN ('pending', 'retrying');

-- Down Migration
DROP TABLE notifications;
