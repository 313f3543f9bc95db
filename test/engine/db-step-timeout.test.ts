import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../src/engine/index.ts';
import type { StepDefinition } from '../../src/engine/define.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { claimDbJobs, runDbBatch } from '../helpers/engine.ts';

// A db step that outlives its timeout (it ignores ctx.signal) goes on running after the batch has
// recorded it as timed out. Its later queries must not reach the batch's transaction, which runs
// the other steps again and commits them: the timed-out attempt's write would commit with no
// checkpoint of its own, and its retry would write again.

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let lateQuery: Promise<string> = Promise.resolve('not run');

// First in lock order: times out at 100 ms, writes at 250 ms.
const late: StepDefinition<unknown> = {
  name: 'a_late',
  kind: 'db',
  timeoutMs: 100,
  retry: { maxAttempts: 3 },
  async run(ctx: DbStepContext<unknown>) {
    const settled = (async () => {
      await sleep(250);
      return ctx.tx.query('INSERT INTO writes (run_id) VALUES ($1)', [ctx.runId]).then(
        () => 'wrote',
        (error: Error) => `refused: ${error.message}`,
      );
    })();
    lateQuery = settled;
    await settled;
    return { late: true };
  },
};

// Runs again in the pass after the timeout, and is still running at 250 ms.
const slow: StepDefinition<unknown> = {
  name: 'b_slow',
  kind: 'db',
  async run(ctx: DbStepContext<unknown>) {
    await sleep(400);
    await ctx.tx.query('INSERT INTO writes (run_id) VALUES ($1)', [ctx.runId]);
    return { slow: true };
  },
};

const registry = createRegistry([
  defineWorkflow<unknown>({ type: 'late', steps: [late] }) as unknown as AnyWorkflow,
  defineWorkflow<unknown>({ type: 'slow', steps: [slow] }) as unknown as AnyWorkflow,
]);

eachDatabase((kind) => {
  test('a db step that outlives its timeout cannot write into the batch that goes on without it', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE writes (run_id text PRIMARY KEY)');
    const lateId = (await startWorkflow(db, registry, { type: 'late', input: {} })).runId;
    const slowId = (await startWorkflow(db, registry, { type: 'slow', input: {} })).runId;
    const jobs = await claimDbJobs(
      db,
      ['late', 'slow'],
      (row) => (row.type === 'late' ? late : slow) as StepDefinition<never>,
    );
    assert.equal(jobs.length, 2);

    await runDbBatch(db, jobs);
    // The timed-out body has made its late query by now (at 250 ms; the batch took over 500).
    assert.match(await lateQuery, /^refused: .*a_late.*ended/, 'the late query was refused');

    const { rows } = await db.query<{ run_id: string }>('SELECT run_id FROM writes');
    assert.deepEqual(
      rows.map((r) => r.run_id),
      [slowId],
      'only the step that returned in time wrote',
    );
    const lateRun = await getRun(db, lateId);
    assert.equal(lateRun.activity, 'retrying', 'the timed-out step is retried');
    assert.match(JSON.stringify(lateRun.steps[0]?.attempts), /timed out after 100 ms/);
    assert.equal((await getRun(db, slowId)).status, 'completed');
  });
});
