import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow } from '../../src/engine/index.ts';
import { executeDbBatch } from '../../src/engine/db-batch.ts';
import { heldRun } from '../../src/engine/execute.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { callCounter, deferred, testWorker } from '../helpers/engine.ts';

// A worker whose lease lapsed while a step was still running (a blocked event loop, a clock that
// jumped) can claim its own run again and hold two copies of it. Only the newer one may record;
// the stale one stops, and nothing runs twice or spins.

async function count(db: Db): Promise<number> {
  const { rows } = await db.query<{ value: number }>('SELECT value FROM counters');
  return rows[0]?.value ?? 0;
}

eachDatabase((kind) => {
  test('two copies of one run in one db batch: the newer records, the stale one is refused unrun', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE counters (value int NOT NULL); INSERT INTO counters VALUES (0)');
    const clock = testClock();
    const flow = defineWorkflow({
      type: 'count',
      steps: [
        {
          name: 'add',
          kind: 'db',
          async run(ctx) {
            await ctx.tx.query('UPDATE counters SET value = value + 1');
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const { runId } = await startWorkflow(db, registry, { type: 'count', input: {}, now: clock.now() });
    const claim = () => claimRuns(db, { workerId: 'w', types: ['count'], limit: 1, leaseMs: 1000, now: clock.now() });
    const [first] = await claim();
    clock.advance(1001);
    const [second] = await claim();
    assert.ok(first && second && second.version > first.version);
    const step = flow.steps[0] as never;
    const jobs = [first, second].map((row) => ({ run: heldRun(row, clock.now()), step, startedAt: clock.now() }));
    const { results } = await executeDbBatch(db, jobs, { leaseMs: 1000, now: clock.now, appNow: clock.now });
    assert.equal(results.get(jobs[0] as never)?.recorded, undefined, 'the stale copy is refused');
    assert.equal(results.get(jobs[1] as never)?.recorded?.status, 'completed');
    assert.equal(await count(db), 1, 'the step ran once');
    assert.equal((await getRun(db, runId)).status, 'completed');
  });

  test('a worker that claims its own run again: the stale copy stops, every step runs once more at most', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE counters (value int NOT NULL); INSERT INTO counters VALUES (0)');
    const clock = testClock();
    const calls = callCounter();
    const heldFirst = deferred();
    const heldSecond = deferred();
    const release = deferred();
    const flow = defineWorkflow({
      type: 'held',
      steps: [
        {
          name: 'hold',
          kind: 'external',
          async run() {
            // Both copies return in the same tick, so their results meet in one write.
            (calls.hit('hold') === 1 ? heldFirst : heldSecond).resolve();
            await release.promise;
            return null;
          },
        },
        {
          name: 'add',
          kind: 'db',
          async run(ctx) {
            calls.hit('add');
            await ctx.tx.query('UPDATE counters SET value = value + 1');
            return null;
          },
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow as unknown as AnyWorkflow]), {
      type: 'held',
      input: {},
      now: clock.now(),
    });
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], { clock: clock.now, leaseMs: 10_000 });
    const first = worker.drain();
    await heldFirst.promise;
    clock.advance(10_001); // the lease lapses on the clock while the first copy is still in `hold`
    const second = worker.drain();
    await heldSecond.promise;
    release.resolve();
    await Promise.all([first, second]);
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(calls.all(), { hold: 2, add: 1 });
    assert.equal(await count(db), 1);
    assert.deepEqual(
      run.steps[0]?.attempts.map((x) => (x as { outcome: string }).outcome),
      ['interrupted', 'completed'],
    );
  });
});
