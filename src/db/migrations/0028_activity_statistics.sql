-- The dashboard's activity (runs created per hour and status, up to 7 days: countRunsPerHour)
-- groups by date_bin('1 hour', created_at, …). Without statistics on that expression the planner
-- takes every row for a group of its own, and sorts the range's rows (on disk past work_mem)
-- instead of hashing a few hundred groups. ANALYZE (autovacuum on PostgreSQL) keeps the
-- expression's distinct count fresh.
CREATE STATISTICS workflow_runs_created_hour
  ON (date_bin('1 hour', created_at, timestamptz '2000-01-01T00:00:00Z')) FROM workflow_runs;
