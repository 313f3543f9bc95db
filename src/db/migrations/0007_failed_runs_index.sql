-- Finds runs that failed recently, newest failures last: the failure-alert sweep reads it every
-- few seconds, so it must not scan every failed run ever recorded.
CREATE INDEX workflow_runs_failed_recently ON workflow_runs (updated_at) WHERE status = 'failed';
