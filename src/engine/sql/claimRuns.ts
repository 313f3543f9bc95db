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
 * (`billflow_claim_runs`, migrations 0010 and 0012). A run whose previous lease expired counts the
 * interrupted attempt. Returns what a worker needs to resume: earlier outputs and step state.
 *
 * Why a PL/pgSQL function and not a plain statement: its `SET` clauses fix the plan (index scans,
 * no sorts or hash joins) for this statement alone. PostgreSQL's own estimates come from
 * statistics that lag a table growing by thousands of runs a second (and PGlite never gathers
 * them): with the settings reset, 20,000-run bursts ran at half the rate and idle latency after
 * them was 8-10x (docs/performance.md, "Hot path as two PL/pgSQL functions").
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
