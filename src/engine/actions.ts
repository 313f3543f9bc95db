import type { Db, Queryable } from '../db/types.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.ts';
import { SKIPPED } from './define.ts';
import type { Registry, WorkflowDefinition } from './define.ts';

export interface OperatorAction {
  runId: string;
  /** Who acts: "user:usr_1", "api_key:key_2", "cli", … — recorded as given. */
  actor: string;
  reason: string;
  now?: Date;
}

export interface ActionResult {
  runId: string;
  /** The run's workflow type. */
  type: string;
  action: 'restart' | 'cancel' | 'skip_step' | 'run_now';
  previousStatus: string;
  status: string;
  /** What the action changed: the steps that will run again, the step skipped, … */
  detail: Record<string, unknown>;
}

interface Changed {
  id: string;
  type: string;
  previous_status: string;
  status: string;
  detail: Record<string, unknown>;
}

function requireReason(action: OperatorAction): void {
  if (!action.reason?.trim()) throw new InvalidInputError([{ field: 'reason', message: 'a reason is required' }]);
  if (!action.actor?.trim()) throw new InvalidInputError([{ field: 'actor', message: 'an actor is required' }]);
}

/**
 * Runs one conditional update (CTEs ending in one named `changed`) and its audit event as a
 * single statement; when it changes
 * nothing, says why: the run does not exist, or its status does not allow the action.
 */
async function act(
  q: Queryable,
  name: ActionResult['action'],
  action: OperatorAction,
  ctes: string,
  allowed: string,
): Promise<ActionResult> {
  requireReason(action);
  const { rows } = await q.query<Changed>(
    `WITH ${ctes},
     event AS (
       INSERT INTO workflow_run_events (run_id, action, actor, reason, detail, created_at)
       SELECT id, $2, $3, $4, detail, coalesce($5::timestamptz, now()) FROM changed)
     SELECT c.id, w.type, c.previous_status, c.status, c.detail, pg_notify('billflow_runs', '') IS NULL AS notified
     FROM changed c JOIN workflow_runs w ON w.id = c.id`,
    [action.runId, name, action.actor, action.reason.trim(), action.now ?? null],
  );
  const row = rows[0];
  if (row)
    return {
      runId: row.id,
      type: row.type,
      action: name,
      previousStatus: row.previous_status,
      status: row.status,
      detail: row.detail,
    };
  const current = await q.query<{ status: string; wait_reason: string | null; lease_owner: string | null }>(
    'SELECT status, wait_reason, lease_owner FROM workflow_runs WHERE id = $1',
    [action.runId],
  );
  const run = current.rows[0];
  if (!run) throw new NotFoundError(`workflow run ${action.runId} not found`);
  const state = run.status === 'in_progress' && run.lease_owner ? 'in_progress (running)' : run.status;
  throw new ConflictError(`cannot ${name.replace('_', ' ')} a run that is ${state}; allowed when ${allowed}`, {
    status: run.status,
  });
}

/** Failed → runs again from the failed step; completed steps never run again. */
export function restartRun(q: Queryable, action: OperatorAction): Promise<ActionResult> {
  return act(
    q,
    'restart',
    action,
    `target AS (SELECT id, status, step_index, steps FROM workflow_runs WHERE id = $1 FOR UPDATE),
     upd AS (
       UPDATE workflow_runs r
       SET status = 'in_progress', attempt = 0, wait_reason = NULL, failed_step = NULL, error = NULL,
           lease_owner = NULL, version = r.version + 1, run_at = coalesce($5::timestamptz, now()),
           updated_at = coalesce($5::timestamptz, now())
       FROM target t WHERE r.id = t.id AND t.status = 'failed'
       RETURNING r.id, r.step_index, r.steps),
     step AS (
       UPDATE workflow_steps s SET status = 'pending', note = 'restarted: ' || $4
       FROM upd WHERE s.run_id = upd.id AND s.step_index = upd.step_index),
     changed AS (SELECT upd.id, 'failed'::text AS previous_status, 'in_progress'::text AS status,
       jsonb_build_object('from_step', upd.steps[upd.step_index + 1],
                          'steps_to_run', to_jsonb(upd.steps[upd.step_index + 1:])) AS detail
     FROM upd)`,
    'it is failed',
  );
}

function isDb(q: Queryable): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

const cancel = (q: Queryable, action: OperatorAction) =>
  act(
    q,
    'cancel',
    action,
    `target AS (SELECT id, status, step_index, steps FROM workflow_runs WHERE id = $1 FOR UPDATE),
     changed AS (UPDATE workflow_runs r
     SET status = 'cancelled', lease_owner = NULL, wait_reason = NULL, version = r.version + 1,
         outcome = 'cancelled', finished_at = coalesce($5::timestamptz, now()),
         updated_at = coalesce($5::timestamptz, now())
     FROM target t
     WHERE r.id = t.id AND t.status IN ('pending', 'in_progress', 'failed')
     RETURNING r.id, t.status AS previous_status, r.status,
       jsonb_build_object('at_step', t.steps[t.step_index + 1]) AS detail)`,
    'it is pending, in progress or failed',
  );

/**
 * Any unfinished run stops for good; a step still running has its result refused. With the
 * workflows, a workflow's `onEnd` is told in the same transaction (given a Db, one is opened;
 * given a transaction, the caller rolls it back if this throws): its throw refuses the cancel.
 */
export async function cancelRun(q: Queryable, action: OperatorAction, workflows?: Registry): Promise<ActionResult> {
  if (!workflows) return cancel(q, action);
  const withHook = async (tx: Queryable): Promise<ActionResult> => {
    const { rows } = await tx.query<{
      type: string;
      input: unknown;
      steps: string[];
      step_index: number;
      step_running: boolean;
    }>(
      `SELECT type, input, steps, step_index,
         status = 'in_progress' AND lease_owner IS NOT NULL AND run_at > coalesce($2::timestamptz, now()) AS step_running
       FROM workflow_runs WHERE id = $1 FOR UPDATE`,
      [action.runId, action.now ?? null],
    );
    const result = await cancel(tx, action);
    const run = rows[0];
    const definition = run && (workflows.get(run.type) as WorkflowDefinition<unknown> | undefined);
    if (run && definition?.onEnd) {
      await definition.onEnd({
        runId: action.runId,
        type: run.type,
        input: run.input,
        status: 'cancelled',
        steps: run.steps,
        stepIndex: run.step_index,
        stepRunning: run.step_running,
        reason: action.reason.trim(),
        tx,
        now: () => action.now ?? new Date(),
      });
    }
    return result;
  };
  return isDb(q) ? q.transaction(withHook) : withHook(q);
}

/**
 * Failed → the failed step is marked skipped (with the reason) and the run goes on after it. The
 * step's output becomes a skipped marker (`isSkippedOutput`), so later steps that read it see
 * that it was skipped, never a missing output.
 */
export function skipFailedStep(q: Queryable, action: OperatorAction): Promise<ActionResult> {
  return act(
    q,
    'skip_step',
    action,
    `target AS (SELECT id, status, step_index, steps FROM workflow_runs WHERE id = $1 FOR UPDATE),
     upd AS (
       UPDATE workflow_runs r
       SET step_index = r.step_index + 1, attempt = 0, error = NULL, failed_step = NULL,
           wait_reason = NULL, lease_owner = NULL, version = r.version + 1,
           status = CASE WHEN r.step_index + 1 >= cardinality(r.steps) THEN 'completed' ELSE 'in_progress' END,
           outcome = CASE WHEN r.step_index + 1 >= cardinality(r.steps) THEN 'completed' END,
           finished_at = CASE WHEN r.step_index + 1 >= cardinality(r.steps) THEN coalesce($5::timestamptz, now()) END,
           run_at = coalesce($5::timestamptz, now()), updated_at = coalesce($5::timestamptz, now())
       FROM target t WHERE r.id = t.id AND t.status = 'failed'
       RETURNING r.id, r.status, t.step_index AS skipped_index, r.steps),
     step AS (
       UPDATE workflow_steps s SET status = 'skipped', note = 'skipped by operator: ' || $4,
         output = jsonb_build_object('${SKIPPED}', true, 'reason', $4::text, 'actor', $3::text),
         updated_at = coalesce($5::timestamptz, now())
       FROM upd WHERE s.run_id = upd.id AND s.step_index = upd.skipped_index),
     changed AS (SELECT upd.id, 'failed'::text AS previous_status, upd.status,
       jsonb_build_object('skipped_step', upd.steps[upd.skipped_index + 1],
                          'steps_to_run', to_jsonb(upd.steps[upd.skipped_index + 2:])) AS detail
     FROM upd)`,
    'it is failed',
  );
}

/** A pending run, or one waiting for a retry or a timer, becomes due now. */
export function runNow(q: Queryable, action: OperatorAction): Promise<ActionResult> {
  return act(
    q,
    'run_now',
    action,
    `target AS (SELECT id, status, wait_reason, run_at, step_index, steps FROM workflow_runs
                WHERE id = $1 FOR UPDATE),
     changed AS (UPDATE workflow_runs r
     SET run_at = coalesce($5::timestamptz, now()), wait_reason = NULL,
         updated_at = coalesce($5::timestamptz, now())
     FROM target t
     WHERE r.id = t.id AND (t.status = 'pending' OR (t.status = 'in_progress' AND r.lease_owner IS NULL))
     RETURNING r.id, t.status AS previous_status, r.status,
       jsonb_build_object('step', t.steps[t.step_index + 1], 'was_due_at', t.run_at,
                          'was_waiting_for', t.wait_reason) AS detail)`,
    'it is pending or waiting (not while a step is running)',
  );
}
