-- The daily "nothing lost" check (billflow reconcile, GET /api/v1/reconciliation): one row per UTC
-- day, claimed by the first worker whose maintenance pass reaches it, so the check runs once a day
-- whatever the number of workers; the report is kept for the admin UI and for the record.
CREATE TABLE reconciliation_days (
  day date PRIMARY KEY,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  ok boolean,
  finding_count int,
  report jsonb
);
