import type { Queryable } from '../../db/types.ts';
import type { ClaimedRun } from './claimRuns.ts';

export type OutcomeKind = 'done' | 'retry' | 'fail' | 'wait' | 'finish';

export interface StepOutcome {
  runId: string;
  version: number;
  stepIndex: number;
  step: string;
  kind: OutcomeKind;
  output?: unknown;
  /** For `wait`: kept for the step's next wake-up. */
  state?: unknown;
  /** For `retry`/`fail`: {name, message, stack}. */
  error?: unknown;
  /** For `finish`: the run's outcome (e.g. "recovered"). */
  outcome?: string;
  /** For `wait`: absolute wake-up time. */
  runAt?: Date;
  /** For `retry`: delay from now. */
  delayMs?: number;
  /** Attempt history entries to append to the step (an interrupted attempt, then this one). */
  attempts: unknown[];
  startedAt: Date;
}

export interface RecordedOutcome {
  id: string;
  status: string;
  step_index: number;
  /** True when the worker keeps the lease and goes on with the next step. */
  continues: boolean;
  lease_left_ms: number;
  /** The wake-up time of a retry or a wait; null for other outcomes. */
  run_at: Date | null;
}

/** Runs to claim in the same statement, in the places of the runs it finishes. */
export interface ClaimInPassing {
  workerId: string;
  types: string[];
  limit: number;
}

/**
 * Records step outcomes for many runs and advances each run, in ONE statement
 * (`billflow_record_outcomes`, migration 0010): this is the hot path (one round trip per step,
 * batched across runs). A row is written only where the run's version and step are still the
 * ones the outcome was produced under — a worker that lost its lease gets nothing back and its
 * result is dropped.
 *
 * With `claim`, the same statement also claims up to `claim.limit` due runs (never one of those
 * it records for): a worker whose runs end hands their places to new runs without a round trip
 * of its own for the claim.
 *
 * Why a PL/pgSQL function: the claim must see the outcomes just recorded (a run of a concurrency
 * key that ended its turn frees the key), so it is a second statement, and only a function runs
 * two statements in one round trip; its `SET` clauses also fix the plan, as for the claim
 * (claimRuns.ts says why, with the measurement).
 */
export async function recordOutcomes(
  q: Queryable,
  outcomes: StepOutcome[],
  args: { leaseMs: number; now: Date | null; claim?: ClaimInPassing },
): Promise<{ recorded: RecordedOutcome[]; claimed: ClaimedRun[] }> {
  const claim = args.claim && args.claim.limit > 0 ? args.claim : undefined;
  const { rows } = await q.query<RecordedOutcome & { claimed: ClaimedRun | null }>(
    `SELECT * FROM billflow_record_outcomes($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                                            $15, $16, $17, $18)`,
    [
      outcomes.map((o) => o.runId),
      outcomes.map((o) => o.version),
      outcomes.map((o) => o.stepIndex),
      outcomes.map((o) => o.step),
      outcomes.map((o) => o.kind),
      JSON.stringify(outcomes.map((o) => o.output)),
      JSON.stringify(outcomes.map((o) => o.state)),
      JSON.stringify(outcomes.map((o) => o.error)),
      outcomes.map((o) => o.outcome ?? null),
      outcomes.map((o) => o.runAt ?? null),
      outcomes.map((o) => o.delayMs ?? null),
      JSON.stringify(outcomes.map((o) => o.attempts)),
      outcomes.map((o) => o.startedAt),
      args.now,
      args.leaseMs,
      claim?.workerId ?? null,
      claim?.types ?? null,
      claim?.limit ?? 0,
    ],
    { name: 'billflow_record_outcomes' },
  );
  const recorded: RecordedOutcome[] = [];
  const claimed: ClaimedRun[] = [];
  for (const { claimed: run, ...row } of rows) {
    if (run) claimed.push(run);
    else recorded.push(row);
  }
  return { recorded, claimed };
}
