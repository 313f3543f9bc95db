-- Durable workflow runs. A run pins its list of steps at start; `step_index` points at the step
-- to run next. `run_at` is the one due time: for a pending or waiting run, when it may run; for a
-- leased run, when the lease expires. Claiming is "due runs, oldest first, SKIP LOCKED".
CREATE TABLE workflow_runs (
  id text PRIMARY KEY,
  type text NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled')),
  -- Why an unleased in_progress run is not running: a retry backoff or a durable timer.
  wait_reason text CHECK (wait_reason IN ('retry', 'timer')),
  steps text[] NOT NULL CHECK (cardinality(steps) > 0),
  step_index int NOT NULL DEFAULT 0,
  -- Attempts already made on the current step (failed or interrupted).
  attempt int NOT NULL DEFAULT 0,
  input jsonb NOT NULL DEFAULT '{}',
  subject_ref text,
  owner_ref text,
  idempotency_key text UNIQUE,
  run_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  -- Fencing token: bumped by every claim and operator action; a result is recorded only if the
  -- version it was produced under is still current.
  version int NOT NULL DEFAULT 0,
  outcome text,
  failed_step text,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
) WITH (fillfactor = 80);
--;
CREATE INDEX workflow_runs_due ON workflow_runs (run_at) WHERE status IN ('pending', 'in_progress');
--;
CREATE INDEX workflow_runs_created ON workflow_runs (created_at DESC, id DESC);
--;
CREATE INDEX workflow_runs_type_created ON workflow_runs (type, created_at DESC, id DESC);
--;
CREATE INDEX workflow_runs_status_created ON workflow_runs (status, created_at DESC, id DESC);
--;
CREATE INDEX workflow_runs_type_status_created ON workflow_runs (type, status, created_at DESC, id DESC);
--;
CREATE INDEX workflow_runs_failed_step ON workflow_runs (failed_step, created_at DESC, id DESC)
  WHERE status = 'failed';
--;
CREATE INDEX workflow_runs_subject ON workflow_runs (subject_ref, created_at DESC, id DESC)
  WHERE subject_ref IS NOT NULL;
--;
CREATE INDEX workflow_runs_owner ON workflow_runs (owner_ref, created_at DESC, id DESC)
  WHERE owner_ref IS NOT NULL;
--;
-- One row per step that has been attempted; steps not yet reached have no row.
CREATE TABLE workflow_steps (
  run_id text NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  step_index int NOT NULL,
  name text NOT NULL,
  status text NOT NULL
    CHECK (status IN ('pending', 'completed', 'failed', 'retrying', 'waiting', 'skipped')),
  output jsonb,
  -- Carried from one wake-up of a waiting step to the next (e.g. which dunning attempt is next).
  state jsonb,
  -- [{attempt, started_at, ended_at, outcome, error?}] — the full history, across restarts.
  attempts jsonb NOT NULL DEFAULT '[]',
  error jsonb,
  note text,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, step_index)
);
--;
-- Operator actions and notable engine events on a run (restart, cancel, skip, run-now, ...).
CREATE TABLE workflow_run_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  action text NOT NULL,
  actor text NOT NULL,
  reason text,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
--;
CREATE INDEX workflow_run_events_run ON workflow_run_events (run_id, id);
--;
CREATE TABLE workflow_operations (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('bulk_restart')),
  name text NOT NULL,
  filter jsonb NOT NULL,
  reason text NOT NULL,
  actor text NOT NULL,
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'cancelled')),
  matched int NOT NULL,
  processed int NOT NULL DEFAULT 0,
  restarted int NOT NULL DEFAULT 0,
  skipped int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
--;
CREATE INDEX workflow_operations_running ON workflow_operations (created_at) WHERE status = 'running';
--;
-- The runs an operation matched when it was created; each is acted on at most once.
CREATE TABLE workflow_operation_items (
  operation_id text NOT NULL REFERENCES workflow_operations (id) ON DELETE CASCADE,
  run_id text NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'restarted', 'skipped')),
  note text,
  processed_at timestamptz,
  PRIMARY KEY (operation_id, run_id)
);
