-- Retention (BILLFLOW_RETENTION_DAYS): the maintenance loop deletes old finished history in small
-- batches, each walking an index from the cutoff down (created_at DESC, key DESC) so a batch reads
-- only the rows it deletes.
--
-- Sends have no index on their time yet; the deletion walks this one.
CREATE INDEX message_sends_created ON message_sends (created_at DESC, send_key DESC);
--;
-- Deleting a run cascades to its bulk-operation items, and deleting a feed entry to its reads:
-- without an index on the referencing column each cascade would read the whole table.
CREATE INDEX workflow_operation_items_run ON workflow_operation_items (run_id);
--;
-- notification_reads comes with 0020, which a new database applies after this one and an older
-- one applied before it: whichever comes second creates the index.
DO $$
BEGIN
  IF to_regclass('notification_reads') IS NOT NULL THEN
    CREATE INDEX IF NOT EXISTS notification_reads_notification ON notification_reads (notification_id);
  END IF;
END
$$;
--;
-- The run counters (0016) took one delta row per deleted run. A batch of deleted runs now appends
-- one row per type and status it touched: a statement trigger reading the deleted rows at once.
DROP TRIGGER workflow_runs_count_delete ON workflow_runs;
--;
DROP FUNCTION billflow_count_run_delete();
--;
CREATE FUNCTION billflow_count_runs_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO workflow_run_counts (type, status, count)
  SELECT type, status, -count(*) FROM gone GROUP BY type, status;
  RETURN NULL;
END
$$;
--;
CREATE TRIGGER workflow_runs_count_delete AFTER DELETE ON workflow_runs
  REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION billflow_count_runs_delete();
--;
-- How far retention has deleted finished runs: a billing record or Stripe event older than this
-- may have lost its run to retention, a younger one cannot have (reconciliation reads it).
CREATE TABLE retention_horizon (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  runs_deleted_before timestamptz NOT NULL
);
