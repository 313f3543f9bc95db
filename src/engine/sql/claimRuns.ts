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

/** Placeholders (`$n` with their casts) of the values the claim CTEs read. */
export interface ClaimPlaceholders {
  workerId: string;
  types: string;
  limit: string;
  now: string;
  leaseMs: string;
  /** Runs never to claim: those the same statement is recording results for. */
  exclude?: string;
}

/**
 * The CTEs `due` and `claimed` that take up to `limit` due runs of the given types under a lease,
 * SKIP LOCKED so concurrent workers never wait on each other. `claimed` returns the ClaimedRun
 * columns. Shared by claimRuns and by recordOutcomes, which claims in the same statement the
 * runs that take the places of those it finishes.
 */
export function claimCtes(p: ClaimPlaceholders): string {
  return `due AS (
       SELECT id, lease_owner AS previous_owner
       FROM workflow_runs
       WHERE status IN ('pending', 'in_progress') AND run_at <= coalesce(${p.now}, now())
         AND type = ANY(${p.types})${p.exclude ? ` AND id <> ALL(${p.exclude})` : ''}
       ORDER BY run_at
       LIMIT ${p.limit}
       FOR UPDATE SKIP LOCKED),
     claimed AS (
       UPDATE workflow_runs r
       SET status = 'in_progress', wait_reason = NULL, lease_owner = ${p.workerId}, version = r.version + 1,
           run_at = coalesce(${p.now}, now()) + ${p.leaseMs} * interval '1 millisecond',
           attempt = r.attempt + CASE WHEN due.previous_owner IS NULL THEN 0 ELSE 1 END,
           started_at = coalesce(r.started_at, coalesce(${p.now}, now())),
           updated_at = coalesce(${p.now}, now())
       FROM due
       WHERE r.id = due.id
       RETURNING r.id, r.type, r.steps, r.step_index, r.attempt, r.input, r.version, due.previous_owner,
         ${p.leaseMs} AS lease_left_ms,
         CASE WHEN r.step_index > 0 THEN
           (SELECT jsonb_object_agg(s.name, s.output) FROM workflow_steps s
            WHERE s.run_id = r.id AND s.step_index < r.step_index AND s.status = 'completed') END AS outputs,
         (SELECT s.state FROM workflow_steps s WHERE s.run_id = r.id AND s.step_index = r.step_index) AS state,
         coalesce((SELECT jsonb_array_length(s.attempts) FROM workflow_steps s
                   WHERE s.run_id = r.id AND s.step_index = r.step_index), 0) AS prior_attempts)`;
}

/**
 * Takes up to `limit` due runs of the given types under a lease, in one statement. A run whose
 * previous lease expired counts the interrupted attempt. Returns what a worker needs to resume:
 * earlier outputs and step state.
 */
const CLAIM_RUNS = `WITH ${claimCtes({
  workerId: '$1',
  types: '$2::text[]',
  limit: '$3',
  now: '$4::timestamptz',
  leaseMs: '$5::int',
})} SELECT * FROM claimed`;

export async function claimRuns(
  q: Queryable,
  args: { workerId: string; types: string[]; limit: number; leaseMs: number; now: Date | null },
): Promise<ClaimedRun[]> {
  const { rows } = await q.query<ClaimedRun>(
    CLAIM_RUNS,
    [args.workerId, args.types, args.limit, args.now, args.leaseMs],
    { name: 'billflow_claim_runs' },
  );
  return rows;
}
