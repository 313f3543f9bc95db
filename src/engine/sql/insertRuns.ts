import type { Queryable } from '../../db/types.ts';
import type { InsertedRun, NewRun } from './insertRun.ts';

/** A run to insert, optionally already claimed by a worker of this process. */
export interface NewRunToClaim extends NewRun {
  claim: { workerId: string; leaseMs: number } | null;
}

export interface InsertedRunRow extends InsertedRun {
  /** As stored (JSON read back from the database), the same as a claim would return it. */
  input: unknown;
  version: number;
  /** True when the run was inserted under its `claim`'s lease. */
  claimed: boolean;
}

/**
 * Inserts many runs in one statement (one commit for a burst of starts). Rows whose idempotency
 * key already exists — or repeats within the batch — are skipped; the caller reads those back.
 * A run with a `claim` is inserted in progress under that worker's lease, as a claim would leave
 * it, so the worker can run it without a claim of its own; a run with a concurrency key never
 * has one (it takes its turn through a claim).
 */
export async function insertRuns(q: Queryable, runs: NewRunToClaim[]): Promise<InsertedRunRow[]> {
  const { rows } = await q.query<InsertedRunRow>(
    // The documents are parsed once (MATERIALIZED): inline, a generic plan parses them per row.
    `WITH k AS (
       INSERT INTO workflow_concurrency_keys (key)
       SELECT DISTINCT key FROM unnest($12::text[]) AS key WHERE key IS NOT NULL
       ON CONFLICT (key) DO NOTHING)
     INSERT INTO workflow_runs (id, type, steps, input, idempotency_key, subject_ref, owner_ref,
                               run_at, created_at, updated_at, status, lease_owner, version, started_at,
                               concurrency_key, key_seq, key_held_while_waiting, trace_parent)
     WITH docs AS MATERIALIZED (SELECT $3::jsonb AS steps, $4::jsonb AS inputs)
     SELECT t.id, t.type, ARRAY(SELECT jsonb_array_elements_text(docs.steps -> (t.i - 1)::int)),
            docs.inputs -> (t.i - 1)::int, t.key,
            t.subject, t.owner,
            CASE WHEN t.claimed_by IS NULL THEN coalesce(t.run_at, t.now, now())
                 ELSE coalesce(t.now, now()) + t.lease_ms * interval '1 millisecond' END,
            coalesce(t.now, now()), coalesce(t.now, now()),
            CASE WHEN t.claimed_by IS NULL THEN 'pending' ELSE 'in_progress' END,
            t.claimed_by,
            CASE WHEN t.claimed_by IS NULL THEN 0 ELSE 1 END,
            CASE WHEN t.claimed_by IS NOT NULL THEN coalesce(t.now, now()) END,
            t.ckey, CASE WHEN t.ckey IS NOT NULL THEN nextval('workflow_runs_key_seq') END, t.hold, t.trace
     FROM unnest($1::text[], $2::text[], $5::text[], $6::text[], $7::text[],
                 $8::timestamptz[], $9::timestamptz[], $10::text[], $11::int[], $12::text[],
                 $13::boolean[], $14::text[]) WITH ORDINALITY
       AS t(id, type, key, subject, owner, run_at, now, claimed_by, lease_ms, ckey, hold, trace, i), docs
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id, type, status, true AS created, input, version, lease_owner IS NOT NULL AS claimed`,
    [
      runs.map((r) => r.id),
      runs.map((r) => r.type),
      // One JSON document each for the step lists and the inputs (in the order of the ids): the
      // driver would escape JSON texts in a text array element by element.
      JSON.stringify(runs.map((r) => r.steps)),
      JSON.stringify(runs.map((r) => r.input ?? null)),
      runs.map((r) => r.idempotencyKey),
      runs.map((r) => r.subjectRef),
      runs.map((r) => r.ownerRef),
      runs.map((r) => r.runAt),
      runs.map((r) => r.now),
      runs.map((r) => r.claim?.workerId ?? null),
      runs.map((r) => r.claim?.leaseMs ?? null),
      runs.map((r) => r.concurrencyKey),
      runs.map((r) => r.keyHeldWhileWaiting),
      runs.map((r) => r.traceParent),
    ],
    { name: 'billflow_insert_runs' },
  );
  return rows;
}
