import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../src/engine/index.ts';
import { executeDbBatch } from '../../src/engine/db-batch.ts';
import type { DbJob } from '../../src/engine/db-batch.ts';
import { heldRun } from '../../src/engine/execute.ts';
import type { StepDefinition } from '../../src/engine/define.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';

// In a batch's first pass the db steps of one name run side by side, their queries pipelined on
// the batch's connection; steps of another name wait until they are done (lock order).

const events: string[] = [];
let inFlight = 0;
let mostInFlight = 0;

function writer(name: string): StepDefinition<unknown> {
  return {
    name,
    kind: 'db',
    async run(ctx: DbStepContext<unknown>) {
      events.push(`start ${name}`);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await ctx.tx.query('INSERT INTO writes (run_id, step, tx) VALUES ($1, $2, txid_current())', [ctx.runId, name]);
      inFlight--;
      events.push(`end ${name}`);
      return { ok: true };
    },
  };
}

const alpha = writer('a_write');
const beta = writer('b_write');
const flows = [
  defineWorkflow({ type: 'alpha', steps: [alpha] }),
  defineWorkflow({ type: 'beta', steps: [beta] }),
] as unknown as AnyWorkflow[];
const registry = createRegistry(flows);

eachDatabase((kind) => {
  test('a batch runs its db steps of one name side by side, one name after the other, in one transaction', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE writes (run_id text NOT NULL, step text NOT NULL, tx bigint NOT NULL)');
    // Started beta first: the batch, not the start order, puts a_write first.
    for (const type of ['beta', 'beta', 'beta', 'alpha', 'alpha', 'alpha']) {
      await startWorkflow(db, registry, { type, input: {} });
    }
    const claimed = await claimRuns(db, {
      workerId: 'w',
      types: ['alpha', 'beta'],
      limit: 10,
      leaseMs: 30_000,
      now: null,
    });
    assert.equal(claimed.length, 6);
    const jobs: DbJob[] = claimed.map((row) => ({
      run: heldRun(row, new Date()),
      step: (row.type === 'alpha' ? alpha : beta) as StepDefinition<never>,
      startedAt: new Date(),
    }));
    events.length = 0;
    mostInFlight = 0;
    const { results } = await executeDbBatch(db, jobs, { leaseMs: 30_000, now: () => null, appNow: () => new Date() });

    assert.equal(mostInFlight, 3, 'the three steps of one name were in flight at once');
    assert.deepEqual(events, [
      ...Array<string>(3).fill('start a_write'),
      ...Array<string>(3).fill('end a_write'),
      ...Array<string>(3).fill('start b_write'),
      ...Array<string>(3).fill('end b_write'),
    ]);
    const { rows } = await db.query<{ step: string; n: number; txs: number }>(
      'SELECT step, count(*)::int AS n, count(DISTINCT tx)::int AS txs FROM writes GROUP BY step ORDER BY step',
    );
    const { rows: all } = await db.query<{ txs: number }>('SELECT count(DISTINCT tx)::int AS txs FROM writes');
    assert.deepEqual(rows, [
      { step: 'a_write', n: 3, txs: 1 },
      { step: 'b_write', n: 3, txs: 1 },
    ]);
    assert.equal(all[0]?.txs, 1, 'both names committed in the same transaction');
    for (const job of jobs) {
      assert.ok(results.get(job)?.recorded, `${job.run.id} is recorded`);
      assert.equal((await getRun(db, job.run.id)).status, 'completed');
    }
  });
});
