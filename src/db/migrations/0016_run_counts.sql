-- Runs per type and status without counting history (GET /workflows/counts, polled by every open
-- admin UI): a read costs the same at any number of runs.
--
-- Kept by triggers rather than by each statement that changes a status (insert, claim,
-- checkpoint, operator actions, bulk restarts): they cover every path, including ones added later,
-- and the hot-path functions of 0010-0012 stay as they are. The update trigger is a row trigger
-- on UPDATE OF status with a WHEN clause, so a checkpoint that leaves the status alone (most of
-- them) costs one comparison and no function call; heartbeats do not name status and never fire it.
--
-- A trigger appends rows (deltas) instead of updating one row per (type, status): a counter row
-- would be locked by every status change until its commit, serializing the commits of all
-- workers, and two batches touching two counters in opposite orders would deadlock. Appended
-- rows lock nothing. The table therefore holds several rows per (type, status); their sum is the
-- count, exact in any snapshot because the deltas commit with the change. The workers fold the
-- rows into one per (type, status) every few seconds (billflow_compact_run_counts), so a read
-- sums a few hundred rows at most, whatever the history.
--
-- What a status change costs is in docs/performance.md ("Run counters kept by triggers").
CREATE TABLE workflow_run_counts (
  type text NOT NULL,
  status text NOT NULL,
  count bigint NOT NULL
);
--;
CREATE FUNCTION billflow_count_run_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO workflow_run_counts (type, status, count) VALUES (NEW.type, NEW.status, 1);
  RETURN NULL;
END
$$;
--;
CREATE FUNCTION billflow_count_run_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO workflow_run_counts (type, status, count)
  VALUES (OLD.type, OLD.status, -1), (NEW.type, NEW.status, 1);
  RETURN NULL;
END
$$;
--;
CREATE FUNCTION billflow_count_run_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO workflow_run_counts (type, status, count) VALUES (OLD.type, OLD.status, -1);
  RETURN NULL;
END
$$;
--;
CREATE FUNCTION billflow_count_runs_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM workflow_run_counts;
  RETURN NULL;
END
$$;
--;
-- The triggers first: creating one locks workflow_runs against writes until this migration
-- commits, so the count below sees every run and misses no change.
CREATE TRIGGER workflow_runs_count_insert AFTER INSERT ON workflow_runs
  FOR EACH ROW EXECUTE FUNCTION billflow_count_run_insert();
--;
CREATE TRIGGER workflow_runs_count_change AFTER UPDATE OF status, type ON workflow_runs
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.type IS DISTINCT FROM NEW.type)
  EXECUTE FUNCTION billflow_count_run_change();
--;
CREATE TRIGGER workflow_runs_count_delete AFTER DELETE ON workflow_runs
  FOR EACH ROW EXECUTE FUNCTION billflow_count_run_delete();
--;
CREATE TRIGGER workflow_runs_count_truncate AFTER TRUNCATE ON workflow_runs
  FOR EACH STATEMENT EXECUTE FUNCTION billflow_count_runs_truncate();
--;
INSERT INTO workflow_run_counts (type, status, count)
SELECT type, status, count(*) FROM workflow_runs GROUP BY type, status;
--;
-- Folds the rows into one per (type, status); returns how many rows it folded. Safe in several
-- processes at once: a row is deleted by one statement only (a concurrent DELETE skips the rows
-- another one removed), and deltas of transactions still open are left for the next pass.
CREATE FUNCTION billflow_compact_run_counts() RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  v_folded int;
BEGIN
  -- Already one row per (type, status): nothing to rewrite (an idle system writes nothing).
  IF NOT EXISTS (SELECT 1 FROM workflow_run_counts GROUP BY type, status
                 HAVING count(*) > 1 OR sum(count) = 0) THEN
    RETURN 0;
  END IF;
  WITH gone AS (DELETE FROM workflow_run_counts RETURNING type, status, count),
  kept AS (
    INSERT INTO workflow_run_counts (type, status, count)
    SELECT type, status, sum(count) FROM gone GROUP BY type, status HAVING sum(count) <> 0)
  SELECT count(*)::int INTO v_folded FROM gone;
  RETURN v_folded;
END
$$;
--;
-- Activity per hour over a time range (GET /workflows/activity) read the whole (status,
-- created_at) index: the index on created_at had to fetch each run's row for its status. The same
-- index, carrying status and type, answers a range from the index alone. It replaces the old one
-- rather than adding one: status already changes other indexes, so no update that was HOT stops
-- being HOT, and inserts write no extra index entry.
DROP INDEX workflow_runs_created;
--;
CREATE INDEX workflow_runs_created ON workflow_runs (created_at DESC, id DESC) INCLUDE (status, type);
