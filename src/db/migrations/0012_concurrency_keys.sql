-- Order per subject. A run may carry a concurrency key (a workflow derives it from its input,
-- e.g. the customer): runs with the same key execute one at a time, in start order (key_seq),
-- across every worker; runs without a key, or of other keys, are never held up by them.
--
-- workflow_concurrency_keys has one row per key. A claim of a keyed run locks that row
-- (FOR UPDATE ... SKIP LOCKED, like the run itself) and records the run as its holder together
-- with the run's new version. Whether the holder still holds the key is read from the holder's
-- own row, so no step or operator action has to release anything: a holder that is completed,
-- failed or cancelled, or parked on a durable timer of a workflow that gives its turn up while
-- waiting, holds nothing. A holder whose row is older than holder_version (a concurrent claim
-- not yet visible to this statement's snapshot) still holds: two workers can never both run a
-- key, whatever the timing.
ALTER TABLE workflow_runs
  ADD COLUMN concurrency_key text,
  ADD COLUMN key_seq bigint,
  -- Keeps the key while parked on a durable timer (otherwise the key's other runs go meanwhile).
  ADD COLUMN key_held_while_waiting boolean NOT NULL DEFAULT false;
--;
CREATE SEQUENCE workflow_runs_key_seq;
--;
CREATE TABLE workflow_concurrency_keys (
  key text PRIMARY KEY,
  holder text,
  holder_version int
);
--;
-- Claims walk keyed and unkeyed due runs apart, so neither kind scans past the other.
DROP INDEX workflow_runs_due;
--;
CREATE INDEX workflow_runs_due ON workflow_runs (run_at)
  WHERE status IN ('pending', 'in_progress') AND concurrency_key IS NULL;
--;
CREATE INDEX workflow_runs_due_keyed ON workflow_runs (run_at)
  WHERE status IN ('pending', 'in_progress') AND concurrency_key IS NOT NULL;
--;
-- The unfinished runs of a key in start order: who is ahead of whom.
CREATE INDEX workflow_runs_key_queue ON workflow_runs (concurrency_key, key_seq)
  WHERE status IN ('pending', 'in_progress') AND concurrency_key IS NOT NULL;
--;
-- Whether the holder recorded on a key row still holds it (see above).
CREATE FUNCTION billflow_key_held(p_holder text, p_holder_version int) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM workflow_runs h
    WHERE h.id = p_holder
      AND (h.version < p_holder_version OR h.status = 'pending'
           OR (h.status = 'in_progress'
               AND (h.wait_reason IS DISTINCT FROM 'timer' OR h.key_held_while_waiting))))
$$;
--;
-- Who a queued keyed run waits for, for operators: the key's holder, or the run ahead of it.
CREATE FUNCTION billflow_waiting_for(p_run text, p_key text, p_seq bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT k.holder FROM workflow_concurrency_keys k
     WHERE k.key = p_key AND k.holder <> p_run AND billflow_key_held(k.holder, k.holder_version)),
    (SELECT e.id FROM workflow_runs e
     WHERE e.concurrency_key = p_key AND e.key_seq < p_seq AND e.status IN ('pending', 'in_progress')
       AND e.run_at <= now()
     ORDER BY e.key_seq LIMIT 1))
$$;
--;
-- Same contract as in 0010. Unkeyed due runs first, then keyed ones: a keyed run is taken only
-- by its key's holder, or, when nobody holds the key, by the first of the key's due runs in
-- start order.
CREATE OR REPLACE FUNCTION billflow_claim_runs(p_worker text, p_types text[], p_limit int,
                                               p_now timestamptz, p_lease_ms int, p_exclude text[])
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
DECLARE
  v_now timestamptz := coalesce(p_now, now());
  v_taken int;
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT r.id, r.lease_owner AS previous_owner
    FROM workflow_runs r
    WHERE r.status IN ('pending', 'in_progress') AND r.concurrency_key IS NULL
      AND r.run_at <= v_now AND r.type = ANY (p_types) AND r.id <> ALL (coalesce(p_exclude, '{}'))
    ORDER BY r.run_at
    LIMIT p_limit
    FOR UPDATE OF r SKIP LOCKED),
  claimed AS (
    UPDATE workflow_runs r
    SET status = 'in_progress', wait_reason = NULL, lease_owner = p_worker, version = r.version + 1,
        run_at = v_now + p_lease_ms * interval '1 millisecond',
        attempt = r.attempt + CASE WHEN due.previous_owner IS NULL THEN 0 ELSE 1 END,
        started_at = coalesce(r.started_at, v_now), updated_at = v_now
    FROM due
    WHERE r.id = due.id
    RETURNING r.id, r.type, r.steps, r.step_index, r.attempt, r.input, r.version,
              due.previous_owner)
  SELECT c.id, c.type, c.steps, c.step_index, c.attempt, c.input, c.version, c.previous_owner,
         p_lease_ms,
         CASE WHEN c.step_index > 0 THEN
           (SELECT jsonb_object_agg(s.name, s.output) FROM workflow_steps s
            WHERE s.run_id = c.id AND s.step_index < c.step_index AND s.status IN ('completed', 'skipped')) END,
         (SELECT s.state FROM workflow_steps s WHERE s.run_id = c.id AND s.step_index = c.step_index),
         coalesce((SELECT jsonb_array_length(s.attempts) FROM workflow_steps s
                   WHERE s.run_id = c.id AND s.step_index = c.step_index), 0)
  FROM claimed c;
  GET DIAGNOSTICS v_taken = ROW_COUNT;
  IF v_taken >= p_limit THEN
    RETURN;
  END IF;

  RETURN QUERY
  WITH due AS (
    SELECT r.id, r.lease_owner AS previous_owner, k.key
    FROM workflow_runs r JOIN workflow_concurrency_keys k ON k.key = r.concurrency_key
    WHERE r.status IN ('pending', 'in_progress') AND r.concurrency_key IS NOT NULL
      AND r.run_at <= v_now AND r.type = ANY (p_types) AND r.id <> ALL (coalesce(p_exclude, '{}'))
      AND (k.holder = r.id
           OR (NOT billflow_key_held(k.holder, k.holder_version)
               AND NOT EXISTS (
                 SELECT 1 FROM workflow_runs e
                 WHERE e.concurrency_key = r.concurrency_key AND e.key_seq < r.key_seq
                   AND e.status IN ('pending', 'in_progress') AND e.run_at <= v_now)))
    ORDER BY r.run_at
    LIMIT p_limit - v_taken
    FOR UPDATE OF r, k SKIP LOCKED),
  claimed AS (
    UPDATE workflow_runs r
    SET status = 'in_progress', wait_reason = NULL, lease_owner = p_worker, version = r.version + 1,
        run_at = v_now + p_lease_ms * interval '1 millisecond',
        attempt = r.attempt + CASE WHEN due.previous_owner IS NULL THEN 0 ELSE 1 END,
        started_at = coalesce(r.started_at, v_now), updated_at = v_now
    FROM due
    WHERE r.id = due.id
    RETURNING r.id, r.type, r.steps, r.step_index, r.attempt, r.input, r.version,
              due.previous_owner, due.key),
  took AS (
    UPDATE workflow_concurrency_keys k SET holder = c.id, holder_version = c.version
    FROM claimed c WHERE k.key = c.key)
  SELECT c.id, c.type, c.steps, c.step_index, c.attempt, c.input, c.version, c.previous_owner,
         p_lease_ms,
         CASE WHEN c.step_index > 0 THEN
           (SELECT jsonb_object_agg(s.name, s.output) FROM workflow_steps s
            WHERE s.run_id = c.id AND s.step_index < c.step_index AND s.status IN ('completed', 'skipped')) END,
         (SELECT s.state FROM workflow_steps s WHERE s.run_id = c.id AND s.step_index = c.step_index),
         coalesce((SELECT jsonb_array_length(s.attempts) FROM workflow_steps s
                   WHERE s.run_id = c.id AND s.step_index = c.step_index), 0)
  FROM claimed c;
END
$$;
--;
ALTER FUNCTION billflow_claim_runs SET plan_cache_mode = force_generic_plan;
--;
-- Same as in 0010, and wakes the workers when a keyed run ends its turn with its key's next run due.
CREATE OR REPLACE FUNCTION billflow_record_outcomes(
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
      o.attempts, o.started_at, r.concurrency_key),
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
      updated_at = excluded.updated_at),
  -- A run of a concurrency key that ends its turn (done, failed, waiting, …) lets the next run
  -- of its key go: wake the workers when one is due, as an insert would.
  handed_on AS (
    SELECT pg_notify('billflow_runs', '') AS sent
    FROM (SELECT 1 FROM runs
          WHERE runs.concurrency_key IS NOT NULL AND NOT runs.continues
            AND EXISTS (SELECT 1 FROM workflow_runs w
                        WHERE w.concurrency_key = runs.concurrency_key AND w.id <> runs.id
                          AND w.status IN ('pending', 'in_progress') AND w.run_at <= v_now)
          LIMIT 1) AS waiting)
  SELECT runs.id, runs.status, runs.step_index, runs.continues, runs.lease_left_ms, runs.run_at,
         NULL::jsonb
  FROM runs CROSS JOIN (SELECT count(*) FROM handed_on) AS h;

  IF p_claim_limit > 0 THEN
    RETURN QUERY
    SELECT NULL::text, NULL::text, NULL::int, NULL::boolean, NULL::int, NULL::timestamptz,
           to_jsonb(c)
    FROM billflow_claim_runs(p_claim_worker, p_claim_types, p_claim_limit, p_now, p_lease_ms,
                             p_run_ids) AS c;
  END IF;
END
$$;

--;
ALTER FUNCTION billflow_record_outcomes SET plan_cache_mode = force_generic_plan;
