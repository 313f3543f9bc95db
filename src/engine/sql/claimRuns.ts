import type { Queryable } from '../../db/types.ts';

export interface ClaimedRun {
  id: string;
  type: string;
  steps: string[];
  step_index: number;
  attempt: number;
  input: unknown;
  version: number;
  /** Set when the run was taken over from a worker whose lease expired. */
  previous_owner: string | null;
  outputs: Record<string, unknown> | null;
  state: unknown;
  lease_left_ms: number;
  /** Attempts recorded on the current step so far, across restarts. */
  prior_attempts: number;
}

/**
 * Takes up to `limit` due runs of the given types under a lease: one statement, SKIP LOCKED so
 * concurrent workers never wait on each other. A run whose previous lease expired counts the
 * interrupted attempt. Returns what a worker needs to resume: earlier outputs and step state.
 */
export async function claimRuns(
  q: Queryable,
  args: { workerId: string; types: string[]; limit: number; leaseMs: number; now: Date | null },
): Promise<ClaimedRun[]> {
  const { rows } = await q.query<ClaimedRun>(
    `WITH due AS (
       SELECT id, lease_owner AS previous_owner
       FROM workflow_runs
       WHERE status IN ('pending', 'in_progress') AND run_at <= coalesce($4::timestamptz, now())
         AND type = ANY($2::text[])
       ORDER BY run_at
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
     UPDATE workflow_runs r
     SET status = 'in_progress', wait_reason = NULL, lease_owner = $1, version = r.version + 1,
         run_at = coalesce($4::timestamptz, now()) + $5 * interval '1 millisecond',
         attempt = r.attempt + CASE WHEN due.previous_owner IS NULL THEN 0 ELSE 1 END,
         started_at = coalesce(r.started_at, coalesce($4::timestamptz, now())),
         updated_at = coalesce($4::timestamptz, now())
     FROM due
     WHERE r.id = due.id
     RETURNING r.id, r.type, r.steps, r.step_index, r.attempt, r.input, r.version, due.previous_owner,
       $5::int AS lease_left_ms,
       CASE WHEN r.step_index > 0 THEN
         (SELECT jsonb_object_agg(s.name, s.output) FROM workflow_steps s
          WHERE s.run_id = r.id AND s.step_index < r.step_index AND s.status = 'completed') END AS outputs,
       (SELECT s.state FROM workflow_steps s WHERE s.run_id = r.id AND s.step_index = r.step_index) AS state,
       coalesce((SELECT jsonb_array_length(s.attempts) FROM workflow_steps s
                 WHERE s.run_id = r.id AND s.step_index = r.step_index), 0) AS prior_attempts`,
    [args.workerId, args.types, args.limit, args.now, args.leaseMs],
    { name: 'billflow_claim_runs' },
  );
  return rows;
}
