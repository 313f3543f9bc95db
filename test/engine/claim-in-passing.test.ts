import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import { claimRuns } from '../../src/engine/sql/claimRuns.ts';
import { recordOutcomes } from '../../src/engine/sql/recordOutcomes.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { doneOutcome, testWorker } from '../helpers/engine.ts';

// A worker records the results of runs that end and, in the same statement, claims due runs to
// take their places: these tests pin down what that statement may and may not claim, and that a
// worker handing places over never runs more at once than its concurrency.
eachDatabase((kind) => {
  const single = defineWorkflow({
    type: 'single',
    steps: [{ name: 'only', kind: 'external', run: async () => 'done' }],
  });

  test('recording a last step claims due runs in the same statement, never the run it records', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const registry = createRegistry([single]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await startWorkflow(db, registry, { type: 'single', input: { i }, now: clock.now() })).runId);
    const [held] = await claimRuns(db, {
      workerId: 'w',
      types: ['single'],
      limit: 1,
      leaseMs: 10_000,
      now: clock.now(),
    });
    assert.ok(held);
    // Past the lease: the recorded run is due again, the very case the exclusion is for.
    clock.advance(20_000);
    const { recorded, claimed } = await recordOutcomes(
      db,
      [doneOutcome(held, { output: 'ok', startedAt: clock.now() })],
      {
        leaseMs: 10_000,
        now: clock.now(),
        // More places than pending runs: the recorded run, due again, must still not be one of them.
        claim: { workerId: 'w', types: ['single'], limit: 4 },
      },
    );
    assert.deepEqual(
      recorded.map((r) => [r.id, r.status]),
      [[held.id, 'completed']],
    );
    assert.deepEqual(claimed.map((c) => c.id).sort(), ids.filter((id) => id !== held.id).sort());
    for (const c of claimed) {
      assert.equal(c.type, 'single');
      assert.deepEqual(c.steps, ['only']);
      assert.equal(c.step_index, 0);
      assert.equal(c.lease_left_ms, 10_000);
      const { rows } = await db.query<{ status: string; lease_owner: string }>(
        'SELECT status, lease_owner FROM workflow_runs WHERE id = $1',
        [c.id],
      );
      assert.deepEqual(rows[0], { status: 'in_progress', lease_owner: 'w' });
    }
    assert.equal((await getRun(db, held.id)).status, 'completed');
  });

  test('a result that is rejected claims nothing for it beyond the places asked for', async () => {
    const { db } = await freshDatabase(kind);
    const registry = createRegistry([single]);
    for (let i = 0; i < 3; i++) await startWorkflow(db, registry, { type: 'single', input: { i } });
    const [held] = await claimRuns(db, { workerId: 'w', types: ['single'], limit: 1, leaseMs: 30_000, now: null });
    assert.ok(held);
    const stale = { ...held, version: held.version - 1 };
    const { recorded, claimed } = await recordOutcomes(db, [doneOutcome(stale, { output: 'ok' })], {
      leaseMs: 30_000,
      now: null,
      claim: { workerId: 'w', types: ['single'], limit: 1 },
    });
    assert.deepEqual(recorded, []);
    assert.equal(claimed.length, 1);
    assert.notEqual(claimed[0]?.id, held.id);
  });

  test('a worker handing places over never runs more than its concurrency at once', async () => {
    const { db } = await freshDatabase(kind);
    let running = 0;
    let most = 0;
    const flow = defineWorkflow({
      type: 'busy',
      steps: ['a', 'b'].map((name) => ({
        name,
        kind: 'external' as const,
        async run() {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running--;
          return name;
        },
      })),
    });
    const registry = createRegistry([flow]);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await startWorkflow(db, registry, { type: 'busy', input: { i } })).runId);
    const worker = testWorker(db, [flow], { concurrency: 3 });
    const seenActive: number[] = [];
    const sampler = setInterval(() => seenActive.push(worker.activeCount()), 1);
    await worker.drain();
    clearInterval(sampler);
    for (const id of ids) assert.equal((await getRun(db, id)).status, 'completed');
    assert.ok(most <= 3, `at most 3 steps at once, saw ${most}`);
    assert.ok(most >= 2, 'runs did overlap');
    // Transiently the handed-over runs and those finishing are both held; never more than that.
    assert.ok(Math.max(...seenActive) <= 6, `active runs sampled: max ${Math.max(...seenActive)}`);
  });
});
