import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, createStarter, defineWorkflow, getRun } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { deferred, testWorker } from '../helpers/engine.ts';

// A starter given this process's worker inserts a run already claimed by that worker while it
// has room, so the run needs neither a NOTIFY nor a claim before its first step.
eachDatabase((kind) => {
  test('a start goes straight to the local worker while it has room, and waits its turn when not', async () => {
    const { db } = await freshDatabase(kind);
    const gate = deferred();
    let entered = 0;
    const flow = defineWorkflow({
      type: 'gated',
      steps: [
        {
          name: 'wait_for_gate',
          kind: 'external',
          async run() {
            entered++;
            await gate.promise;
            return 'through';
          },
        },
      ],
    });
    const registry = createRegistry([flow]);
    const worker = testWorker(db, [flow], { concurrency: 2, pollIntervalMs: 60_000 });
    await worker.start();
    const starter = createStarter(db, registry, { worker });
    const owner = async (runId: string) =>
      (
        await db.query<{ status: string; lease_owner: string | null }>(
          'SELECT status, lease_owner FROM workflow_runs WHERE id = $1',
          [runId],
        )
      ).rows[0];

    const first = await starter.start({ type: 'gated', input: { n: 1 }, idempotencyKey: 'k1' });
    // Claimed by the insert itself: in progress under this worker's lease the moment start returns.
    assert.deepEqual(await owner(first.runId), { status: 'in_progress', lease_owner: worker.id });
    const second = await starter.start({ type: 'gated', input: { n: 2 } });
    assert.deepEqual(await owner(second.runId), { status: 'in_progress', lease_owner: worker.id });
    // Full: the third run is left pending for whichever worker has room first.
    const third = await starter.start({ type: 'gated', input: { n: 3 } });
    assert.deepEqual(await owner(third.runId), { status: 'pending', lease_owner: null });
    // A repeated key finds the existing run and gives its place back.
    const again = await starter.start({ type: 'gated', input: { n: 1 }, idempotencyKey: 'k1' });
    assert.equal(again.runId, first.runId);
    assert.equal(again.created, false);

    gate.resolve();
    for (const runId of [first.runId, second.runId, third.runId]) {
      for (let i = 0; i < 200 && (await getRun(db, runId)).status !== 'completed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal((await getRun(db, runId)).status, 'completed');
    }
    assert.equal(entered, 3);
    // No place leaked: both are free again.
    const places = [worker.takePlace(), worker.takePlace(), worker.takePlace()];
    assert.deepEqual(
      places.map((p) => p !== undefined),
      [true, true, false],
    );
    worker.givePlaceBack();
    worker.givePlaceBack();
  });

  test('a stopped worker takes no places: starts are inserted pending', async () => {
    const { db } = await freshDatabase(kind);
    const flow = defineWorkflow({ type: 'plain', steps: [{ name: 'a', kind: 'external', run: async () => 1 }] });
    const worker = testWorker(db, [flow]);
    const starter = createStarter(db, createRegistry([flow]), { worker });
    const started = await starter.start({ type: 'plain', input: {} });
    assert.equal((await getRun(db, started.runId)).status, 'pending');
    await worker.drain();
    assert.equal((await getRun(db, started.runId)).status, 'completed');
  });
});
