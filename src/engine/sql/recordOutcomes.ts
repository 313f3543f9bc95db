import type { Queryable } from '../../db/types.ts';
import { claimCtes } from './claimRuns.ts';
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
  run_at: Date;
}

/** Runs to claim in the same statement, in the places of the runs it finishes. */
export interface ClaimInPassing {
  workerId: string;
  types: string[];
  limit: number;
}

const RECORD = `WITH o AS (
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[],
                            $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::int[],
                            $12::text[], $13::timestamptz[])
         AS t(run_id, version, step_index, step, kind, output, state, error, outcome, run_at,
              delay_ms, attempts, started_at)),
     -- clock_timestamp(), not now(): for a db step this runs at the end of the step's own
     -- transaction, where now() is when the step began; a lease counted from then is shorter
     -- than the worker believes, and another worker could take over a step still running.
     now AS (SELECT coalesce($14::timestamptz, clock_timestamp()) AS t),
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
             WHEN o.kind = 'retry' THEN now.t + o.delay_ms * interval '1 millisecond'
             -- Keep the lease fresh while going on; leaving run_at alone otherwise lets
             -- PostgreSQL update the row in place (HOT) without touching the due index.
             WHEN r.run_at < now.t + $15 * interval '0.5 millisecond'
               THEN now.t + $15 * interval '1 millisecond'
             ELSE r.run_at END,
           lease_owner = CASE WHEN o.kind = 'done' AND r.step_index + 1 < cardinality(r.steps)
                              THEN r.lease_owner END,
           outcome = CASE
             WHEN o.kind = 'finish' THEN o.outcome
             WHEN o.kind = 'done' AND r.step_index + 1 >= cardinality(r.steps) THEN 'completed' END,
           failed_step = CASE WHEN o.kind = 'fail' THEN o.step END,
           -- Changes only on a failure: an indexed column, so leaving it alone keeps checkpoints HOT.
           failed_at = CASE WHEN o.kind = 'fail' THEN now.t ELSE r.failed_at END,
           error = CASE WHEN o.kind IN ('fail', 'retry') THEN o.error::jsonb END,
           finished_at = CASE
             WHEN o.kind = 'finish' OR (o.kind = 'done' AND r.step_index + 1 >= cardinality(r.steps))
               THEN now.t END,
           updated_at = now.t
       FROM o, now
       WHERE r.id = o.run_id AND r.version = o.version AND r.step_index = o.step_index
         -- IS TRUE keeps the status test out of index matching: written plainly, the planner may
         -- read every active run through the due and status indexes (a bitmap AND) to find the
         -- few in this batch; a primary-key lookup per outcome costs the same at any backlog.
         AND (r.status = 'in_progress') IS TRUE
       RETURNING r.id, r.status, r.step_index, r.run_at, r.lease_owner IS NOT NULL AS continues,
         -- Capped: for a wait, run_at is the wake-up time, and one past ~24.8 days overflows int.
         least(extract(epoch FROM r.run_at - now.t) * 1000, 2147483647)::int AS lease_left_ms),
     steps AS (
       INSERT INTO workflow_steps AS s (run_id, step_index, name, status, output, state, error, note,
                                        attempts, started_at, finished_at, updated_at)
       SELECT o.run_id, o.step_index, o.step,
              CASE o.kind WHEN 'done' THEN 'completed' WHEN 'finish' THEN 'completed'
                          WHEN 'retry' THEN 'retrying' WHEN 'wait' THEN 'waiting' ELSE 'failed' END,
              o.output::jsonb, o.state::jsonb, o.error::jsonb,
              CASE WHEN o.kind = 'finish' THEN 'finished the run: ' || o.outcome END,
              o.attempts::jsonb, o.started_at,
              CASE WHEN o.kind IN ('done', 'finish') THEN now.t END, now.t
       FROM o JOIN runs ON runs.id = o.run_id, now
       ON CONFLICT (run_id, step_index) DO UPDATE
       SET status = excluded.status, output = excluded.output, state = excluded.state,
           error = excluded.error, note = excluded.note,
           attempts = s.attempts || excluded.attempts,
           started_at = coalesce(s.started_at, excluded.started_at),
           finished_at = excluded.finished_at, updated_at = excluded.updated_at),
     skipped AS (
       INSERT INTO workflow_steps (run_id, step_index, name, status, note, updated_at)
       SELECT r.id, g.i, r.steps[g.i + 1], 'skipped', 'run finished early: ' || o.outcome, now.t
       FROM o JOIN runs ON runs.id = o.run_id JOIN workflow_runs r ON r.id = o.run_id, now,
            generate_series(o.step_index + 1, cardinality(r.steps) - 1) AS g(i)
       WHERE o.kind = 'finish'
       ON CONFLICT (run_id, step_index) DO UPDATE SET status = 'skipped', note = excluded.note,
         updated_at = excluded.updated_at)`;

// Two statements, not one with a claim of zero runs: planning the claim costs every statement
// without one (it shows on the embedded database, which plans each statement anew).
const RECORD_OUTCOMES = `${RECORD}
   SELECT id, status, step_index, continues, lease_left_ms, run_at, NULL::jsonb AS claimed FROM runs`;

const RECORD_OUTCOMES_AND_CLAIM = `${RECORD},
     ${claimCtes({
       workerId: '$16',
       types: '$17::text[]',
       limit: '$18',
       now: '$14::timestamptz',
       leaseMs: '$15::int',
       exclude: '$1::text[]',
     })}
   SELECT id, status, step_index, continues, lease_left_ms, run_at, NULL::jsonb AS claimed FROM runs
   UNION ALL
   SELECT NULL, NULL, NULL, NULL, NULL, NULL, to_jsonb(c) FROM claimed c`;

/**
 * Records step outcomes for many runs and advances each run, in ONE statement: this is the hot
 * path (one round trip per step, batched across runs). A row is written only where the run's
 * version and step are still the ones the outcome was produced under — a worker that lost its
 * lease gets nothing back and its result is dropped.
 *
 * With `claim`, the same statement also claims up to `claim.limit` due runs (never one of those
 * it records for): a worker whose runs end hands their places to new runs without a round trip
 * of its own for the claim.
 */
export async function recordOutcomes(
  q: Queryable,
  outcomes: StepOutcome[],
  args: { leaseMs: number; now: Date | null; claim?: ClaimInPassing },
): Promise<{ recorded: RecordedOutcome[]; claimed: ClaimedRun[] }> {
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  const claim = args.claim && args.claim.limit > 0 ? args.claim : undefined;
  const { rows } = await q.query<RecordedOutcome & { claimed: ClaimedRun | null }>(
    claim ? RECORD_OUTCOMES_AND_CLAIM : RECORD_OUTCOMES,
    [
      outcomes.map((o) => o.runId),
      outcomes.map((o) => o.version),
      outcomes.map((o) => o.stepIndex),
      outcomes.map((o) => o.step),
      outcomes.map((o) => o.kind),
      outcomes.map((o) => json(o.output)),
      outcomes.map((o) => json(o.state)),
      outcomes.map((o) => json(o.error)),
      outcomes.map((o) => o.outcome ?? null),
      outcomes.map((o) => o.runAt ?? null),
      outcomes.map((o) => o.delayMs ?? null),
      outcomes.map((o) => JSON.stringify(o.attempts)),
      outcomes.map((o) => o.startedAt),
      args.now,
      args.leaseMs,
      ...(claim ? [claim.workerId, claim.types, claim.limit] : []),
    ],
    { name: claim ? 'billflow_record_outcomes_and_claim' : 'billflow_record_outcomes' },
  );
  const recorded: RecordedOutcome[] = [];
  const claimed: ClaimedRun[] = [];
  for (const { claimed: run, ...row } of rows) {
    if (run) claimed.push(run);
    else recorded.push(row);
  }
  return { recorded, claimed };
}
