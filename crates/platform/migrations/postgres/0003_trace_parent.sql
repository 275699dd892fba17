-- The W3C traceparent of the work that published each event: its handlers continue that trace.
ALTER TABLE platform_outbox ADD COLUMN trace_parent TEXT;
