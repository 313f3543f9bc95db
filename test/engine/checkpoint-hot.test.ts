import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, startWorkflow } from '../../src/engine/index.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { recordOutcomes } from '../../src/engine/sql/recordOutcomes.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { doneOutcome } from '../helpers/engine.ts';

// The hot path's cost on the database: a checkpoint that moves a run on to its next step must
// leave every indexed column of workflow_runs alone, so PostgreSQL updates the row in place (HOT)
// instead of writing a new entry into each of the table's indexes.
eachDatabase((kind) => {
  test('a checkpoint between two steps is a HOT update of the run', async () => {
    const { db } = await freshDatabase(kind);
    const flow = defineWorkflow({
      type: 'three',
      steps: ['a', 'b', 'c'].map((name) => ({ name, kind: 'external' as const, run: async () => name })),
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'three', input: {} });
    const [claimed] = await claimRuns(db, { workerId: 'w', types: ['three'], limit: 1, leaseMs: 30_000, now: null });
    assert.equal(claimed?.id, runId);
    const outcome = doneOutcome(claimed, { output: 'a' });
    const counts = await db.transaction(async (tx) => {
      // This backend's counts not yet sent to the statistics system, earlier statements included:
      // the difference around the checkpoint is what the checkpoint did.
      const read = async () =>
        (
          await tx.query<{ updated: number; hot: number }>(
            `SELECT pg_stat_get_xact_tuples_updated('workflow_runs'::regclass)::int AS updated,
                    pg_stat_get_xact_tuples_hot_updated('workflow_runs'::regclass)::int AS hot`,
          )
        ).rows[0] ?? { updated: 0, hot: 0 };
      const before = await read();
      const { recorded } = await recordOutcomes(tx, [outcome], { leaseMs: 30_000, now: null });
      assert.equal(recorded[0]?.continues, true);
      const after = await read();
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });
    assert.deepEqual(counts, { updated: 1, hot: 1 });
  });
});
