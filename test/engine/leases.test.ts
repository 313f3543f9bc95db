import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { Logger, RunCompletedEvent, RunFailedEvent, StepFailedEvent } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { deferred, testWorker } from '../helpers/engine.ts';

function recordingLogger() {
  const lines: { level: string; msg?: string; obj: object }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, msg, obj });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

eachDatabase((kind) => {
  test("a stale worker's late result is rejected after another worker took the run over", async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const firstStarted = deferred();
    const releaseFirst = deferred();
    const seen: { worker: string; interrupted: boolean; attempt: number }[] = [];
    const flow = defineWorkflow({
      type: 'slow',
      steps: [
        {
          name: 'charge',
          kind: 'external',
          async run(ctx) {
            const worker = seen.length === 0 ? 'A' : 'B';
            seen.push({ worker, interrupted: ctx.interrupted, attempt: ctx.attempt });
            if (worker === 'A') {
              firstStarted.resolve();
              await releaseFirst.promise;
            }
            return { by: worker };
          },
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'slow', input: {}, now: clock.now() });
    const a = recordingLogger();
    const workerA = testWorker(db, [flow], { clock: clock.now, leaseMs: 10_000, workerId: 'A', logger: a.logger });
    const workerB = testWorker(db, [flow], { clock: clock.now, leaseMs: 10_000, workerId: 'B' });
    const drainingA = workerA.drain();
    await firstStarted.promise;
    clock.advance(10_001); // A stops renewing (it is stuck); its lease expires
    await workerB.drain();
    releaseFirst.resolve();
    await drainingA;
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.steps[0]?.output, { by: 'B' });
    assert.deepEqual(seen, [
      { worker: 'A', interrupted: false, attempt: 1 },
      { worker: 'B', interrupted: true, attempt: 2 },
    ]);
    assert.deepEqual(
      run.steps[0]?.attempts.map((x) => (x as { outcome: string }).outcome),
      ['interrupted', 'completed'],
    );
    assert.ok(a.lines.some((l) => l.level === 'warn' && /rejected/.test(l.msg ?? '')));
  });

  test('hooks: each failed attempt, the final failure once, and completions', async () => {
    const { db } = await freshDatabase(kind);
    const stepFailed: StepFailedEvent[] = [];
    const runFailed: RunFailedEvent[] = [];
    const completed: RunCompletedEvent[] = [];
    const flow = defineWorkflow<{ fail: boolean }>({
      type: 'hooked',
      steps: [
        {
          name: 'send',
          kind: 'external',
          retry: { maxAttempts: 3, initialDelayMs: 0, jitter: 0 },
          async run(ctx) {
            if (ctx.input.fail) throw new Error('smtp down');
            return 'sent';
          },
        },
      ],
    });
    const registry = createRegistry([flow]);
    await startWorkflow(db, registry, { type: 'hooked', input: { fail: true } });
    await startWorkflow(db, registry, { type: 'hooked', input: { fail: false } });
    const worker = testWorker(db, [flow], {
      hooks: {
        onStepFailed: (e) => void stepFailed.push(e),
        onRunFailed: (e) => void runFailed.push(e),
        onRunCompleted: (e) => void completed.push(e),
      },
    });
    await worker.drain();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      stepFailed.map((e) => [e.attempt, e.retryAt !== undefined]),
      [
        [1, true],
        [2, true],
        [3, false],
      ],
    );
    assert.equal(runFailed.length, 1);
    assert.equal(runFailed[0]?.step, 'send');
    assert.deepEqual(
      completed.map((e) => e.outcome),
      ['completed'],
    );
  });

  test('a started worker picks new runs up by notification and keeps long steps leased', async () => {
    const { db } = await freshDatabase(kind);
    const runners = new Map<string, Set<string>>();
    const flow = defineWorkflow({
      type: 'live',
      steps: [
        {
          name: 'long',
          kind: 'external',
          async run(ctx) {
            const set = runners.get(ctx.runId) ?? new Set();
            runners.set(ctx.runId, set);
            set.add(ctx.signal.aborted ? 'aborted' : 'ran');
            await new Promise((r) => setTimeout(r, 1200));
            return null;
          },
        },
        { name: 'short', kind: 'external', run: async () => null },
      ],
    });
    const registry = createRegistry([flow]);
    // Leases of 600 ms: without heartbeats the second worker would take the run over mid-step.
    const one = testWorker(db, [flow], { leaseMs: 600, pollIntervalMs: 100_000, workerId: 'one' });
    const two = testWorker(db, [flow], { leaseMs: 600, pollIntervalMs: 100, workerId: 'two' });
    await one.start();
    const { runId } = await startWorkflow(db, registry, { type: 'live', input: {} });
    await new Promise((r) => setTimeout(r, 150));
    await two.start();
    const deadline = Date.now() + 10_000;
    while ((await getRun(db, runId)).status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal(runners.get(runId)?.size, 1);
    assert.equal(run.steps[0]?.attempts.length, 1, 'the long step ran once, never taken over');
  });

  test('stop lets a running step finish, then hands the run back for another worker', async () => {
    const { db } = await freshDatabase(kind);
    const calls: string[] = [];
    const stepStarted = deferred();
    const flow = defineWorkflow({
      type: 'graceful',
      steps: [
        {
          name: 'first',
          kind: 'external',
          async run() {
            calls.push('first');
            stepStarted.resolve();
            await new Promise((r) => setTimeout(r, 200));
            return null;
          },
        },
        { name: 'second', kind: 'external', run: async () => void calls.push('second') },
      ],
    });
    const registry = createRegistry([flow]);
    const worker = testWorker(db, [flow], { pollIntervalMs: 100_000 });
    await worker.start();
    const { runId } = await startWorkflow(db, registry, { type: 'graceful', input: {} });
    await stepStarted.promise;
    await worker.stop({ graceMs: 5_000 });
    let run = await getRun(db, runId);
    assert.equal(run.status, 'in_progress');
    assert.equal(run.activity, 'queued', 'released: due for any worker at once');
    assert.deepEqual(calls, ['first']);
    await testWorker(db, [flow]).drain();
    run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(calls, ['first', 'second']);
  });

  test('a step still running when the grace period ends is handed back as interrupted', async () => {
    const { db } = await freshDatabase(kind);
    const started = deferred();
    const attempts: { attempt: number; interrupted: boolean }[] = [];
    const flow = defineWorkflow({
      type: 'stuck',
      steps: [
        {
          name: 'send_customer_email',
          kind: 'external',
          async run(ctx) {
            attempts.push({ attempt: ctx.attempt, interrupted: ctx.interrupted });
            if (attempts.length === 1) {
              started.resolve();
              await new Promise((r) => setTimeout(r, 2_000));
            }
            return 'sent';
          },
        },
      ],
    });
    const worker = testWorker(db, [flow], { pollIntervalMs: 100_000 });
    await worker.start();
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'stuck', input: {} });
    await started.promise;
    await worker.stop({ graceMs: 50 });
    await testWorker(db, [flow]).drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(attempts, [
      { attempt: 1, interrupted: false },
      { attempt: 2, interrupted: true },
    ]);
  });
});
