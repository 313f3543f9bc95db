import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRegistry,
  defineWorkflow,
  finishRun,
  getRun,
  startWorkflow,
  waitUntil,
  wakeWaitingRuns,
} from '../../src/engine/index.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

const DAY = 86_400_000;

/** Waits 30 days (past an int of milliseconds: a regression check of long waits) unless the flag in `opened` says the awaited thing happened. */
function waiting(opened: Set<string>, calls: string[]) {
  return defineWorkflow<{ key: string }>({
    type: 'await_thing',
    steps: [
      {
        name: 'await_thing',
        kind: 'external',
        async run(ctx) {
          calls.push(ctx.input.key);
          if (opened.has(ctx.input.key)) return finishRun('happened', { woken: ctx.state !== undefined });
          return waitUntil(new Date(ctx.now().getTime() + 30 * DAY), { waiting: true });
        },
      },
      { name: 'after_deadline', kind: 'external', run: async () => 'deadline passed' },
    ],
  });
}

eachDatabase((kind) => {
  test('waking a subject makes only its timer-waiting runs due now, audited, without moving the clock', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const opened = new Set<string>();
    const calls: string[] = [];
    const flow = waiting(opened, calls);
    const registry = createRegistry([flow]);
    const worker = testWorker(db, [flow], { clock: clock.now });
    const a = await startWorkflow(db, registry, {
      type: 'await_thing',
      input: { key: 'a' },
      subjectRef: 'thing_a',
      now: clock.now(),
    });
    const b = await startWorkflow(db, registry, {
      type: 'await_thing',
      input: { key: 'b' },
      subjectRef: 'thing_b',
      now: clock.now(),
    });
    await worker.drain();
    assert.equal((await getRun(db, a.runId)).activity, 'waiting');
    assert.deepEqual(calls.sort(), ['a', 'b']);

    opened.add('a');
    const woken = await db.transaction((tx) =>
      wakeWaitingRuns(tx, { subjectRef: 'thing_a', now: clock.now(), actor: 'user:1', reason: 'paid' }),
    );
    assert.deepEqual(woken, [{ id: a.runId, type: 'await_thing', step: 'await_thing' }]);
    await worker.drain();

    const runA = await getRun(db, a.runId);
    assert.equal(runA.status, 'completed');
    assert.equal(runA.outcome, 'happened');
    assert.deepEqual(runA.steps[0]?.output, { woken: true });
    assert.equal(runA.steps[1]?.status, 'skipped');
    const event = runA.events.find((e) => e.action === 'wake');
    assert.equal(event?.actor, 'user:1');
    assert.equal(event?.reason, 'paid');
    assert.deepEqual(event?.detail, { step: 'await_thing' });
    // The other subject's run still waits for its own time.
    const runB = await getRun(db, b.runId);
    assert.equal(runB.activity, 'waiting');
    assert.equal(calls.filter((k) => k === 'b').length, 1);

    // A finished run is not woken again; a type filter that does not match wakes nothing.
    assert.deepEqual(await wakeWaitingRuns(db, { subjectRef: 'thing_a', now: clock.now() }), []);
    assert.deepEqual(await wakeWaitingRuns(db, { subjectRef: 'thing_b', type: 'other', now: clock.now() }), []);
    assert.equal((await getRun(db, b.runId)).activity, 'waiting');
  });

  test('a run not waiting on a timer (pending, scheduled later) is left alone', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const flow = waiting(new Set(), []);
    const registry = createRegistry([flow]);
    const later = new Date(clock.now().getTime() + DAY);
    const pending = await startWorkflow(db, registry, {
      type: 'await_thing',
      input: { key: 'p' },
      subjectRef: 'thing_p',
      runAt: later,
    });
    assert.deepEqual(await wakeWaitingRuns(db, { subjectRef: 'thing_p', now: clock.now() }), []);
    const run = await getRun(db, pending.runId);
    assert.equal(run.status, 'pending');
    assert.equal(new Date(run.activity_until as Date).getTime(), later.getTime());
    await assert.rejects(wakeWaitingRuns(db, { subjectRef: ' ' }), InvalidInputError);
  });
});
