-- The engine's hot path as two functions, billflow_claim_runs and billflow_record_outcomes,
-- whose plans do not depend on table statistics or size.
--
-- Their SET clauses leave the planner one way to run each statement, on a new database without
-- statistics as on a large one: a primary-key lookup per run to record outcomes, and the ordered
-- walk of workflow_runs_due to claim (no sequential scans, bitmaps, sorts, hash or merge joins).
-- A function keeps its plans for the session, so the embedded database, which has no prepared
-- statements, does not plan these statements for every batch. `jit = off`: compiling statements
-- this small would cost more than running them.
--
-- A later change to either signature gets a new function name, so that processes of the
-- previous version keep working during a rolling upgrade.

-- Takes up to p_limit due runs of the given types under a lease, oldest first, SKIP LOCKED so
-- that concurrent workers never wait on each other. A run whose previous lease expired counts
-- the interrupted attempt. Returns what a worker needs to resume: earlier outputs, step state.
-- p_exclude: runs the caller is recording results for in the same call, never claimed by it.
CREATE FUNCTION billflow_claim_runs(p_worker text, p_types text[], p_limit int, p_now timestamptz,
                                    p_lease_ms int, p_exclude text[])
RETURNS TABLE (id text, type text, steps text[], step_index int, attempt int, input jsonb,
               version int, previous_owner text, lease_left_ms int, outputs jsonb, state jsonb,
               prior_attempts int)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
ROWS 10
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT r.id, r.lease_owner AS previous_owner
    FROM workflow_runs r
    WHERE r.status IN ('pending', 'in_progress') AND r.run_at <= coalesce(p_now, now())
      AND r.type = ANY (p_types) AND r.id <> ALL (coalesce(p_exclude, '{}'))
    ORDER BY r.run_at
    LIMIT p_limit
    FOR UPDATE OF r SKIP LOCKED),
  claimed AS (
    UPDATE workflow_runs r
    SET status = 'in_progress', wait_reason = NULL, lease_owner = p_worker, version = r.version + 1,
        run_at = coalesce(p_now, now()) + p_lease_ms * interval '1 millisecond',
        attempt = r.attempt + CASE WHEN due.previous_owner IS NULL THEN 0 ELSE 1 END,
        started_at = coalesce(r.started_at, coalesce(p_now, now())),
        updated_at = coalesce(p_now, now())
    FROM due
    WHERE r.id = due.id
    RETURNING r.id, r.type, r.steps, r.step_index, r.attempt, r.input, r.version,
              due.previous_owner)
  SELECT c.id, c.type, c.steps, c.step_index, c.attempt, c.input, c.version, c.previous_owner,
         p_lease_ms,
         CASE WHEN c.step_index > 0 THEN
           (SELECT jsonb_object_agg(s.name, s.output) FROM workflow_steps s
            WHERE s.run_id = c.id AND s.step_index < c.step_index AND s.status = 'completed') END,
         (SELECT s.state FROM workflow_steps s WHERE s.run_id = c.id AND s.step_index = c.step_index),
         coalesce((SELECT jsonb_array_length(s.attempts) FROM workflow_steps s
                   WHERE s.run_id = c.id AND s.step_index = c.step_index), 0)
  FROM claimed c;
END
$$;
--;
-- Records step outcomes for many runs and advances each run: the checkpoint of every step. A
-- row is written only where the run's version and step are still the ones the outcome was
-- produced under; a worker that lost its lease gets nothing back for it. With p_claim_limit > 0
-- the same call claims that many due runs (never one it records for), returned in `claimed`.
-- Outputs, states, errors and attempts come as JSON arrays (one document each, in the order of
-- p_run_ids) rather than arrays of JSON texts, which the driver would escape element by element.
CREATE FUNCTION billflow_record_outcomes(
  p_run_ids text[], p_versions int[], p_step_indexes int[], p_steps text[], p_kinds text[],
  p_outputs jsonb, p_states jsonb, p_errors jsonb, p_outcomes text[], p_run_ats timestamptz[],
  p_delays_ms int[], p_attempts jsonb, p_started_ats timestamptz[], p_now timestamptz,
  p_lease_ms int, p_claim_worker text, p_claim_types text[], p_claim_limit int)
RETURNS TABLE (id text, status text, step_index int, continues boolean, lease_left_ms int,
               run_at timestamptz, claimed jsonb)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_hashjoin = off
SET enable_mergejoin = off
SET jit = off
ROWS 100
AS $$
#variable_conflict use_column
DECLARE
  -- clock_timestamp(), not now(): for a db step this runs at the end of the step's own
  -- transaction, where now() is when the step began; a lease counted from then is shorter than
  -- the worker believes, and another worker could take over a step still running.
  v_now timestamptz := coalesce(p_now, clock_timestamp());
BEGIN
  RETURN QUERY
  WITH o AS (
    SELECT t.run_id, t.version, t.step_index, t.step, t.kind, t.outcome, t.run_at, t.delay_ms,
           t.started_at,
           CASE WHEN t.kind IN ('done', 'finish') THEN p_outputs -> (t.i - 1)::int END AS output,
           nullif(p_states -> (t.i - 1)::int, 'null') AS state,
           nullif(p_errors -> (t.i - 1)::int, 'null') AS error,
           p_attempts -> (t.i - 1)::int AS attempts
    FROM unnest(p_run_ids, p_versions, p_step_indexes, p_steps, p_kinds, p_outcomes, p_run_ats,
                p_delays_ms, p_started_ats) WITH ORDINALITY
      AS t(run_id, version, step_index, step, kind, outcome, run_at, delay_ms, started_at, i)),
  runs AS (
    UPDATE workflow_runs r
    SET step_index = CASE o.kind WHEN 'done' THEN r.step_index + 1
                                 WHEN 'finish' THEN cardinality(r.steps) ELSE r.step_index END,
        attempt = CASE WHEN o.kind IN ('retry', 'fail') THEN r.attempt + 1 ELSE 0 END,
        status = CASE
          WHEN o.kind = 'finish' OR (o.kind = 'done' AND r.step_index + 1 >= cardinality(r.steps))
            THEN 'completed'
          WHEN o.kind = 'fail' THEN 'failed'
          ELSE 'in_progress' END,
        wait_reason = CASE o.kind WHEN 'retry' THEN 'retry' WHEN 'wait' THEN 'timer' END,
        run_at = CASE
          WHEN o.kind = 'wait' THEN o.run_at
          WHEN o.kind = 'retry' THEN v_now + o.delay_ms * interval '1 millisecond'
          -- Keep the lease fresh while going on; leaving run_at alone otherwise lets PostgreSQL
          -- update the row in place (HOT) without touching the due index.
          WHEN r.run_at < v_now + p_lease_ms * interval '0.5 millisecond'
            THEN v_now + p_lease_ms * interval '1 millisecond'
          ELSE r.run_at END,
        lease_owner = CASE WHEN o.kind = 'done' AND r.step_index + 1 < cardinality(r.steps)
                           THEN r.lease_owner END,
        outcome = CASE
          WHEN o.kind = 'finish' THEN o.outcome
          WHEN o.kind = 'done' AND r.step_index + 1 >= cardinality(r.steps) THEN 'completed' END,
        failed_step = CASE WHEN o.kind = 'fail' THEN o.step END,
        -- Changes only on a failure: an indexed column, so leaving it alone keeps checkpoints HOT.
        failed_at = CASE WHEN o.kind = 'fail' THEN v_now ELSE r.failed_at END,
        error = CASE WHEN o.kind IN ('fail', 'retry') THEN o.error END,
        finished_at = CASE
          WHEN o.kind = 'finish' OR (o.kind = 'done' AND r.step_index + 1 >= cardinality(r.steps))
            THEN v_now END,
        updated_at = v_now
    FROM o
    WHERE r.id = o.run_id AND r.version = o.version AND r.step_index = o.step_index
      -- IS TRUE keeps the status test out of index matching: one primary-key lookup per outcome.
      AND (r.status = 'in_progress') IS TRUE
    -- run_at only where the worker needs it (a retry's or a wait's wake-up): one less date to
    -- parse per result on the way back.
    RETURNING r.id, r.status, r.step_index,
      CASE WHEN o.kind IN ('retry', 'wait') THEN r.run_at END AS run_at,
      r.lease_owner IS NOT NULL AS continues,
      -- Capped: for a wait, run_at is the wake-up time, and one past ~24.8 days overflows int.
      least(extract(epoch FROM r.run_at - v_now) * 1000, 2147483647)::int AS lease_left_ms,
      r.steps, o.step_index AS at_index, o.step, o.kind, o.output, o.state, o.error, o.outcome,
      o.attempts, o.started_at),
  steps AS (
    INSERT INTO workflow_steps AS s (run_id, step_index, name, status, output, state, error, note,
                                     attempts, started_at, finished_at, updated_at)
    SELECT runs.id, runs.at_index, runs.step,
           CASE runs.kind WHEN 'done' THEN 'completed' WHEN 'finish' THEN 'completed'
                          WHEN 'retry' THEN 'retrying' WHEN 'wait' THEN 'waiting' ELSE 'failed' END,
           runs.output, runs.state, runs.error,
           CASE WHEN runs.kind = 'finish' THEN 'finished the run: ' || runs.outcome END,
           runs.attempts, runs.started_at,
           CASE WHEN runs.kind IN ('done', 'finish') THEN v_now END, v_now
    FROM runs
    ON CONFLICT (run_id, step_index) DO UPDATE
    SET status = excluded.status, output = excluded.output, state = excluded.state,
        error = excluded.error, note = excluded.note,
        attempts = s.attempts || excluded.attempts,
        started_at = coalesce(s.started_at, excluded.started_at),
        finished_at = excluded.finished_at, updated_at = excluded.updated_at),
  skipped AS (
    INSERT INTO workflow_steps (run_id, step_index, name, status, note, updated_at)
    SELECT runs.id, g.i, runs.steps[g.i + 1], 'skipped', 'run finished early: ' || runs.outcome, v_now
    FROM runs, generate_series(runs.at_index + 1, cardinality(runs.steps) - 1) AS g(i)
    WHERE runs.kind = 'finish'
    ON CONFLICT (run_id, step_index) DO UPDATE SET status = 'skipped', note = excluded.note,
      updated_at = excluded.updated_at)
  SELECT runs.id, runs.status, runs.step_index, runs.continues, runs.lease_left_ms, runs.run_at,
         NULL::jsonb
  FROM runs;

  IF p_claim_limit > 0 THEN
    RETURN QUERY
    SELECT NULL::text, NULL::text, NULL::int, NULL::boolean, NULL::int, NULL::timestamptz,
           to_jsonb(c)
    FROM billflow_claim_runs(p_claim_worker, p_claim_types, p_claim_limit, p_now, p_lease_ms,
                             p_run_ids) AS c;
  END IF;
END
$$;
