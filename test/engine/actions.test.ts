import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError, NotFoundError, PermanentError } from '../../src/errors.ts';
import {
  bulkRestart,
  cancelRun,
  createRegistry,
  defineWorkflow,
  getOperation,
  getRun,
  listRuns,
  restartRun,
  runNow,
  skipFailedStep,
  startWorkflow,
  waitUntil,
} from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { callCounter, testWorker } from '../helpers/engine.ts';

function flows(calls: ReturnType<typeof callCounter>, failing: Set<string>) {
  return defineWorkflow<{ n?: number }>({
    type: 'billing_like',
    steps: ['record', 'email', 'notice'].map((name) => ({
      name,
      kind: 'external' as const,
      retry: { maxAttempts: 1 },
      async run() {
        calls.hit(name);
        // An outage (retryable), as when SMTP is down: what a bulk restart is for.
        if (failing.has(name)) throw new Error(`${name} is broken`);
        return name;
      },
    })),
  });
}

eachDatabase((kind) => {
  test('two operators restarting the same run at once restart it once', async () => {
    const { db } = await freshDatabase(kind);
    const calls = callCounter();
    const failing = new Set(['email']);
    const flow = flows(calls, failing);
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'billing_like', input: {} });
    const worker = testWorker(db, [flow]);
    await worker.drain();
    failing.clear();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => restartRun(db, { runId, actor: `user:${i}`, reason: 'fixed' })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      assert.ok((r as PromiseRejectedResult).reason instanceof ConflictError);
    }
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal(calls.get('email'), 2);
    assert.equal(run.events.filter((e) => e.action === 'restart').length, 1);
  });

  test('actions refuse what the status does not allow, naming the status', async () => {
    const { db } = await freshDatabase(kind);
    const calls = callCounter();
    const flow = flows(calls, new Set());
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'billing_like', input: {} });
    await testWorker(db, [flow]).drain();
    await assert.rejects(restartRun(db, { runId, actor: 'u', reason: 'r' }), (e: unknown) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.details.status, 'completed');
      assert.match(e.message, /completed/);
      return true;
    });
    await assert.rejects(cancelRun(db, { runId, actor: 'u', reason: 'r' }), ConflictError);
    await assert.rejects(restartRun(db, { runId: 'run_missing', actor: 'u', reason: 'r' }), NotFoundError);
    await assert.rejects(restartRun(db, { runId, actor: 'u', reason: '  ' }), InvalidInputError);
  });

  test('skip marks the failed step skipped with the reason and the run goes on', async () => {
    const { db } = await freshDatabase(kind);
    const calls = callCounter();
    const flow = flows(calls, new Set(['email']));
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'billing_like', input: {} });
    const worker = testWorker(db, [flow]);
    await worker.drain();
    const result = await skipFailedStep(db, { runId, actor: 'user:ana', reason: 'customer has no mailbox' });
    assert.deepEqual(result.detail, { skipped_step: 'email', steps_to_run: ['notice'] });
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.steps[1]?.status, 'skipped');
    assert.match(run.steps[1]?.note ?? '', /customer has no mailbox/);
    assert.deepEqual(calls.all(), { record: 1, email: 1, notice: 1 });
  });

  test('cancel stops a waiting run for good', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const flow = defineWorkflow({
      type: 'waiter',
      steps: [
        {
          name: 'await_payment',
          kind: 'external',
          run: async (ctx) => waitUntil(new Date(ctx.now().getTime() + 60_000)),
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'waiter', input: {}, now: clock.now() });
    const worker = testWorker(db, [flow], { clock: clock.now });
    await worker.drain();
    const result = await cancelRun(db, { runId, actor: 'user:ana', reason: 'duplicate invoice' });
    assert.equal(result.previousStatus, 'in_progress');
    clock.advance(120_000);
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'cancelled');
    assert.equal(run.steps[0]?.attempts.length, 1);
  });

  test('run-now makes a waiting or pending run due at once', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    let wakes = 0;
    const flow = defineWorkflow({
      type: 'later',
      steps: [
        {
          name: 'await_due_date',
          kind: 'external',
          run: async (ctx) => (++wakes === 1 ? waitUntil(new Date(ctx.now().getTime() + 3_600_000)) : 'due'),
        },
      ],
    });
    const registry = createRegistry([flow]);
    const scheduled = await startWorkflow(db, registry, {
      type: 'later',
      input: {},
      now: clock.now(),
      runAt: new Date(clock.now().getTime() + 86_400_000),
    });
    const worker = testWorker(db, [flow], { clock: clock.now });
    await worker.drain();
    assert.equal((await getRun(db, scheduled.runId)).status, 'pending');
    await runNow(db, { runId: scheduled.runId, actor: 'user:ops', reason: 'customer asked', now: clock.now() });
    await worker.drain();
    let run = await getRun(db, scheduled.runId);
    assert.equal(run.activity, 'waiting');
    await runNow(db, { runId: scheduled.runId, actor: 'user:ops', reason: 'paid by phone', now: clock.now() });
    await worker.drain();
    run = await getRun(db, scheduled.runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(
      run.events.map((e) => [e.action, e.detail.was_waiting_for ?? null]),
      [
        ['run_now', null],
        ['run_now', 'timer'],
      ],
    );
  });

  test('bulk restart: dry-run count, then each matching failed run restarts once, throttled', async () => {
    const { db } = await freshDatabase(kind);
    const calls = callCounter();
    const failing = new Set(['email']);
    const flow = flows(calls, failing);
    const other = defineWorkflow({
      type: 'other',
      steps: [
        {
          name: 'email',
          kind: 'external',
          retry: { maxAttempts: 1 },
          run: async () => {
            throw new PermanentError('x');
          },
        },
      ],
    });
    const registry = createRegistry([flow, other]);
    for (let i = 0; i < 7; i++) await startWorkflow(db, registry, { type: 'billing_like', input: { n: i } });
    await startWorkflow(db, registry, { type: 'other', input: {} });
    const worker = testWorker(db, [flow, other], { bulkBatchSize: 3 });
    await worker.drain();
    const filter = { type: 'billing_like', failedStep: 'email' };
    const dry = await bulkRestart(db, { filter, dryRun: true, reason: 'smtp fixed', actor: 'user:ops' });
    assert.deepEqual(dry, { matched: 7, permanentExcluded: 0 });
    assert.equal(calls.get('email'), 7, 'a dry run changes nothing');

    failing.clear();
    // One of them is restarted by hand first: the operation must skip it, not restart it twice.
    const { items } = await import('../../src/engine/index.ts').then((m) => m.listRuns(db, { type: 'billing_like' }));
    const real = await bulkRestart(db, {
      filter,
      dryRun: false,
      reason: 'smtp fixed',
      actor: 'user:ops',
      name: 'SMTP outage',
    });
    assert.equal(real.matched, 7);
    await restartRun(db, { runId: items[0]?.id as string, actor: 'user:ana', reason: 'urgent one' });
    await worker.drain();
    const op = await getOperation(db, real.operationId as string);
    assert.equal(op.status, 'completed');
    assert.equal(op.name, 'SMTP outage');
    assert.deepEqual([op.matched, op.processed, op.restarted, op.skipped], [7, 7, 6, 1]);
    assert.equal(op.completed, 6);
    assert.deepEqual(op.failed_again, []);
    assert.equal(calls.get('email'), 7 + 7);
    assert.equal(calls.get('notice'), 7);
    const again = await bulkRestart(db, { filter, dryRun: true, reason: 'r', actor: 'u' });
    assert.equal(again.matched, 0);
  });

  test('bulk restart leaves runs whose error was permanent out unless asked, and lists what it takes', async () => {
    const { db } = await freshDatabase(kind);
    let declined = true;
    const charge = defineWorkflow({
      type: 'charge',
      steps: [
        {
          name: 'charge',
          kind: 'external',
          retry: { maxAttempts: 1 },
          run: async ({ input }) => {
            const { n } = input as { n: number };
            // Even runs: a declined card (permanent); odd runs: the provider was down (retryable).
            if (n % 2 === 0 && declined) throw new PermanentError('card_declined');
            if (n % 2 === 1 && declined) throw new Error('provider unavailable');
            return { charged: n };
          },
        },
      ],
    });
    const registry = createRegistry([charge]);
    for (let n = 0; n < 6; n++) await startWorkflow(db, registry, { type: 'charge', input: { n } });
    const worker = testWorker(db, [charge]);
    await worker.drain();
    const failed = await listRuns(db, { type: 'charge', status: 'failed' });
    assert.equal(failed.items.length, 6);
    const permanent = await listRuns(db, { type: 'charge', permanent: true });
    const retryable = await listRuns(db, { type: 'charge', permanent: false });
    assert.equal(permanent.items.length, 3);
    assert.equal(retryable.items.length, 3);

    const filter = { type: 'charge' };
    const dry = await bulkRestart(db, { filter, dryRun: true, reason: 'provider back', actor: 'user:ops' });
    assert.deepEqual(dry, { matched: 3, permanentExcluded: 3 });
    const all = await bulkRestart(db, {
      filter: { ...filter, includePermanent: true },
      dryRun: true,
      reason: 'r',
      actor: 'user:ops',
    });
    assert.deepEqual(all, { matched: 6, permanentExcluded: 0 });

    declined = false;
    const real = await bulkRestart(db, { filter, dryRun: false, reason: 'provider back', actor: 'user:ops' });
    assert.equal(real.matched, 3);
    assert.equal(real.permanentExcluded, 3);
    await worker.drain();
    const { rows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM workflow_runs WHERE type = 'charge' GROUP BY status ORDER BY status`,
    );
    assert.deepEqual(rows, [
      { status: 'completed', n: 3 },
      { status: 'failed', n: 3 },
    ]);
    const stillFailed = await listRuns(db, { type: 'charge', status: 'failed' });
    for (const run of stillFailed.items) assert.equal((run.error as { retryable?: boolean }).retryable, false);
    const op = await getOperation(db, real.operationId as string);
    assert.equal(op.restarted, 3);
  });
});
