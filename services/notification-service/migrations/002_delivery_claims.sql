-- Up Migration
-- Delivery that survives long outages and never resends because of its own bookkeeping:
-- - status `sending`: claimed and handed to SMTP, outcome not yet recorded. A `sending` row whose
--   lease ended belongs to a worker that died mid-send; the next claim sends it again (decision 0025).
-- - claim_id: a new token per claim; outcomes are recorded only while the row still carries the
--   worker's token, so a worker whose lease ended cannot overwrite what another recorded.
-- - deliver_since: the start of the delivery clock; a notification is given up once it is older
--   than DELIVERY_GIVE_UP_AFTER_SECONDS (a redrive restarts the clock).
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
  CHECK (status IN ('pending', 'sending', 'sent', 'retrying', 'failed'));
ALTER TABLE notifications ADD COLUMN claim_id uuid;
ALTER TABLE notifications ADD COLUMN deliver_since timestamptz NOT NULL DEFAULT now();
UPDATE notifications SET deliver_since = created_at;
CREATE INDEX notifications_sending ON notifications (lease_until) WHERE status = 'sending';
CREATE INDEX notifications_failed ON notifications (updated_at) WHERE status = 'failed';

-- Down Migration
DROP INDEX notifications_failed;
DROP INDEX notifications_sending;
ALTER TABLE notifications DROP COLUMN deliver_since;
ALTER TABLE notifications DROP COLUMN claim_id;
UPDATE notifications SET status = 'retrying' WHERE status = 'sending';
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
  CHECK (status IN ('pending', 'sent', 'retrying', 'failed'));
