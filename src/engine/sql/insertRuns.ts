import type { Queryable } from '../../db/types.ts';
import type { InsertedRun, NewRun } from './insertRun.ts';

/**
 * Inserts many runs in one statement (one commit for a burst of starts). Rows whose idempotency
 * key already exists — or repeats within the batch — are skipped; the caller reads those back.
 */
export async function insertRuns(q: Queryable, runs: NewRun[]): Promise<(InsertedRun & { id: string })[]> {
  const { rows } = await q.query<InsertedRun>(
    `INSERT INTO workflow_runs (id, type, steps, input, idempotency_key, subject_ref, owner_ref,
                               run_at, created_at, updated_at)
     SELECT t.id, t.type, ARRAY(SELECT jsonb_array_elements_text(t.steps::jsonb)), t.input::jsonb, t.key,
            t.subject, t.owner, coalesce(t.run_at, t.now, now()), coalesce(t.now, now()), coalesce(t.now, now())
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::timestamptz[], $9::timestamptz[])
       AS t(id, type, steps, input, key, subject, owner, run_at, now)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id, type, status, true AS created`,
    [
      runs.map((r) => r.id),
      runs.map((r) => r.type),
      runs.map((r) => JSON.stringify(r.steps)),
      runs.map((r) => JSON.stringify(r.input ?? null)),
      runs.map((r) => r.idempotencyKey),
      runs.map((r) => r.subjectRef),
      runs.map((r) => r.ownerRef),
      runs.map((r) => r.runAt),
      runs.map((r) => r.now),
    ],
    { name: 'billflow_insert_runs' },
  );
  return rows;
}
