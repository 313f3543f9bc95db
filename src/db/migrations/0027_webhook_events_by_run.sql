-- A run's page lists the webhook messages its steps emitted, and where each stands.
CREATE INDEX webhook_events_run ON webhook_events (run_id) WHERE run_id IS NOT NULL;
