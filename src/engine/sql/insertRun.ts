import type { Queryable } from '../../db/types.ts';
import { RUNS_CHANNEL } from '../channel.ts';

export interface NewRun {
  id: string;
  type: string;
  steps: string[];
  input: unknown;
  idempotencyKey: string | null;
  subjectRef: string | null;
  ownerRef: string | null;
  /** Runs with the same key execute one at a time, in start order (migration 0012). */
  concurrencyKey: string | null;
  /** Keeps the key while parked on a durable timer. */
  keyHeldWhileWaiting: boolean;
  /** When it may start; null = now (DB clock, or the engine's clock when given). */
  runAt: Date | null;
  now: Date | null;
  /** Set when the first step already ran inside the caller's transaction. */
  firstStepDone: boolean;
  /**
   * NOTIFY from the statement itself (delivered at commit): needed when the caller owns the
   * transaction. Otherwise the caller notifies after commit, coalesced, which keeps NOTIFY's
   * commit-time lock from serializing concurrent starts.
   */
  notifyInStatement: boolean;
  /** The W3C traceparent of whatever started the run (migration 0017), when tracing is on. */
  traceParent: string | null;
}

export interface InsertedRun {
  id: string;
  type: string;
  status: string;
  created: boolean;
}

/**
 * Inserts a run unless one with the same idempotency key exists, and wakes the workers (NOTIFY is
 * delivered at commit, so a run started inside a caller's transaction is seen when it commits).
 * Returns no row on a key conflict; the caller then reads the existing run.
 */
export async function insertRun(q: Queryable, run: NewRun): Promise<InsertedRun | undefined> {
  const { rows } = await q.query<InsertedRun>(
    `WITH k AS (
       INSERT INTO workflow_concurrency_keys (key) SELECT $12::text WHERE $12::text IS NOT NULL
       ON CONFLICT (key) DO NOTHING),
     ins AS (
       INSERT INTO workflow_runs (id, type, steps, input, idempotency_key, subject_ref, owner_ref,
                                  run_at, created_at, updated_at, step_index, status, started_at,
                                  concurrency_key, key_seq, key_held_while_waiting, trace_parent)
       VALUES ($1, $2, $3::text[], $4::jsonb, $5, $6, $7,
               coalesce($8::timestamptz, $9::timestamptz, now()), coalesce($9::timestamptz, now()),
               coalesce($9::timestamptz, now()),
               CASE WHEN $10::boolean THEN 1 ELSE 0 END,
               CASE WHEN $10::boolean AND cardinality($3::text[]) = 1 THEN 'completed'
                    WHEN $10::boolean THEN 'in_progress' ELSE 'pending' END,
               CASE WHEN $10::boolean THEN coalesce($9::timestamptz, now()) END,
               $12::text, CASE WHEN $12::text IS NOT NULL THEN nextval('workflow_runs_key_seq') END,
               $13::boolean, $14::text)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id, type, status)
     SELECT id, type, status, true AS created,
            CASE WHEN $11::boolean THEN pg_notify('${RUNS_CHANNEL}', type) IS NULL END AS notified
     FROM ins`,
    [
      run.id,
      run.type,
      run.steps,
      JSON.stringify(run.input ?? null),
      run.idempotencyKey,
      run.subjectRef,
      run.ownerRef,
      run.runAt,
      run.now,
      run.firstStepDone,
      run.notifyInStatement,
      run.concurrencyKey,
      run.keyHeldWhileWaiting,
      run.traceParent,
    ],
    { name: 'billflow_insert_run' },
  );
  return rows[0];
}
