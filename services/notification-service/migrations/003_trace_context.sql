-- Up Migration
-- The trace context (W3C traceparent and tracestate) of the handling that recorded a notification,
-- so that its delivery, later and possibly by another replica, continues the same trace.
-- Rows from before have none: their email is sent in a trace of its own.
ALTER TABLE notifications ADD COLUMN trace_context jsonb NOT NULL DEFAULT '{}';

-- Down Migration
ALTER TABLE notifications DROP COLUMN trace_context;
