import type { Queryable } from '../../db/types.ts';
import { RUNS_CHANNEL } from '../channel.ts';

export interface WokenRun {
  id: string;
  type: string;
  step: string;
}

/**
 * Makes the unleased runs of a subject that wait on a durable timer due at `now`, in one
 * statement, with an audit event per run and a NOTIFY (delivered at commit) so a worker looks at
 * once. Runs that are running (leased), retrying or not yet started are left alone: a lease's
 * `run_at` is its expiry and must not move, and a retry backoff is not a timer.
 */
export async function wakeRuns(
  q: Queryable,
  args: { subjectRef: string; type: string | null; now: Date | null; actor: string; reason: string | null },
): Promise<WokenRun[]> {
  const { rows } = await q.query<WokenRun>(
    `WITH woken AS (
       UPDATE workflow_runs r
       SET run_at = coalesce($3::timestamptz, now()), wait_reason = NULL,
           updated_at = coalesce($3::timestamptz, now())
       WHERE r.subject_ref = $1 AND ($2::text IS NULL OR r.type = $2)
         AND r.status = 'in_progress' AND r.wait_reason = 'timer' AND r.lease_owner IS NULL
       RETURNING r.id, r.type, r.steps[r.step_index + 1] AS step),
     event AS (
       INSERT INTO workflow_run_events (run_id, action, actor, reason, detail, created_at)
       SELECT id, 'wake', $4, $5, jsonb_build_object('step', step), coalesce($3::timestamptz, now()) FROM woken)
     SELECT id, type, step, pg_notify('${RUNS_CHANNEL}', type) IS NULL AS notified FROM woken`,
    [args.subjectRef, args.type, args.now, args.actor, args.reason],
  );
  return rows.map(({ id, type, step }) => ({ id, type, step }));
}
