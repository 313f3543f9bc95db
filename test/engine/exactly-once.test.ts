import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRegistry, defineWorkflow, getRun, restartRun, startWorkflow } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

/**
 * A db step adds to a counter, then something goes wrong after its write (the handler throws,
 * the run fails later and is restarted). The counter must end exactly at one increment per run.
 */
eachDatabase((kind) => {
  test('a db step that fails after its write leaves no trace, and its retry counts once', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec(`CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL);
                   INSERT INTO counters VALUES ('subscriptions', 0)`);
    let failuresLeft = 0;
    let laterStepFails = false;
    const flow = defineWorkflow({
      type: 'count',
      steps: [
        {
          name: 'update_stats',
          kind: 'db',
          retry: { maxAttempts: 4, initialDelayMs: 0, jitter: 0 },
          async run(ctx) {
            await ctx.tx.query(`UPDATE counters SET value = value + 1 WHERE name = 'subscriptions'`);
            if (failuresLeft > 0) {
              failuresLeft--;
              throw new Error('crash right after the write');
            }
            return null;
          },
        },
        {
          name: 'send_email',
          kind: 'external',
          retry: { maxAttempts: 1 },
          async run() {
            if (laterStepFails) throw new Error('smtp down');
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow]);
    const worker = testWorker(db, [flow]);
    const runs: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.boolean(), async (failures, thenFail) => {
        failuresLeft = failures;
        laterStepFails = thenFail;
        const { runId } = await startWorkflow(db, registry, { type: 'count', input: {} });
        runs.push(runId);
        await worker.drain();
        if (thenFail) {
          assert.equal((await getRun(db, runId)).failed_step, 'send_email');
          laterStepFails = false;
          await restartRun(db, { runId, actor: 'test', reason: 'smtp back' });
          await worker.drain();
        }
        const run = await getRun(db, runId);
        assert.equal(run.status, 'completed');
      }),
      { numRuns: 15 },
    );
    const { rows } = await db.query<{ value: number }>(`SELECT value FROM counters`);
    assert.equal(rows[0]?.value, runs.length);
  });

  test('a db step whose lease was lost meanwhile rolls back its writes', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec(`CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL);
                   INSERT INTO counters VALUES ('n', 0)`);
    let steal: (() => Promise<void>) | undefined;
    const flow = defineWorkflow({
      type: 'fenced',
      steps: [
        {
          name: 'write',
          kind: 'db',
          async run(ctx) {
            await ctx.tx.query(`UPDATE counters SET value = value + 1`);
            // Someone else takes the run over while this attempt is still inside its transaction.
            await steal?.();
            return null;
          },
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'fenced', input: {} });
    if (kind === 'pglite') {
      // One connection: the takeover cannot interleave, so bump the version from inside.
      steal = undefined;
    }
    const worker = testWorker(db, [flow]);
    if (kind === 'postgres') {
      steal = async () => {
        steal = undefined;
        await db.query(`UPDATE workflow_runs SET version = version + 1 WHERE id = $1`, [runId]);
      };
      await worker.drain();
      assert.equal((await db.query<{ value: number }>('SELECT value FROM counters')).rows[0]?.value, 0);
      const run = await getRun(db, runId);
      assert.equal(run.activity, 'running', 'still leased by the worker that lost it; it expires later');
      await db.query(`UPDATE workflow_runs SET run_at = now() - interval '1 second' WHERE id = $1`, [runId]);
    }
    await worker.drain();
    assert.equal((await getRun(db, runId)).status, 'completed');
    assert.equal((await db.query<{ value: number }>('SELECT value FROM counters')).rows[0]?.value, 1);
  });
});
