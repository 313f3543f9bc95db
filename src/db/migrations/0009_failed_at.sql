-- The failure sweep found recent failures through an index on updated_at, which every step's
-- checkpoint changes: no checkpoint could then be a HOT update, and each one wrote a new entry
-- into every index of workflow_runs. A failure time of its own changes only when a run fails.
ALTER TABLE workflow_runs ADD COLUMN failed_at timestamptz;
--;
UPDATE workflow_runs SET failed_at = updated_at WHERE status = 'failed';
--;
DROP INDEX workflow_runs_failed_recently;
--;
CREATE INDEX workflow_runs_failed_at ON workflow_runs (failed_at) WHERE status = 'failed';
