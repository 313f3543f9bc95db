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
 * Takes up to `limit` due runs of the given types under a lease, in one statement
 * (`billflow_claim_runs`, migration 0010). A run whose previous lease expired counts the
 * interrupted attempt. Returns what a worker needs to resume: earlier outputs and step state.
 */
export async function claimRuns(
  q: Queryable,
  args: { workerId: string; types: string[]; limit: number; leaseMs: number; now: Date | null },
): Promise<ClaimedRun[]> {
  const { rows } = await q.query<ClaimedRun>(
    'SELECT * FROM billflow_claim_runs($1, $2, $3, $4, $5, NULL)',
    [args.workerId, args.types, args.limit, args.now, args.leaseMs],
    { name: 'billflow_claim_runs' },
  );
  return rows;
}
