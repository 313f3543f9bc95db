import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermanentError, RetryableError } from '../../src/errors.ts';
import {
  defineWorkflow,
  finishRun,
  getRun,
  restartRun,
  startWorkflow,
  waitUntil,
  createRegistry,
} from '../../src/engine/index.ts';
import type { StepContext, StepDefinition } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { callCounter, testWorker } from '../helpers/engine.ts';

eachDatabase((kind) => {
  test('steps run in order and each sees the outputs before it', async () => {
    const { db } = await freshDatabase(kind);
    const seen: string[] = [];
    const flow = defineWorkflow<{ n: number }>({
      type: 'chain',
      steps: ['a', 'b', 'c'].map((name) => ({
        name,
        kind: 'external' as const,
        async run(ctx: StepContext<{ n: number }>) {
          seen.push(`${name}:${JSON.stringify(ctx.outputs)}`);
          return { [name]: ctx.input.n + Object.keys(ctx.outputs).length };
        },
      })),
    });
    const registry = createRegistry([flow]);
    const { runId } = await startWorkflow(db, registry, { type: 'chain', input: { n: 10 } });
    await testWorker(db, [flow]).drain();
    assert.deepEqual(seen, ['a:{}', 'b:{"a":{"a":10}}', 'c:{"a":{"a":10},"b":{"b":11}}']);
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.outcome, 'completed');
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.status, s.attempts.length]),
      [
        ['a', 'completed', 1],
        ['b', 'completed', 1],
        ['c', 'completed', 1],
      ],
    );
    assert.deepEqual(run.steps[2]?.output, { c: 12 });
    assert.ok(run.finished_at);
  });

  test('a failing step stops the run there; restart re-runs only it and what follows', async () => {
    const { db } = await freshDatabase(kind);
    const calls = callCounter();
    let smtpUp = false;
    const step = (name: string, fn?: () => void): StepDefinition<unknown> => ({
      name,
      kind: 'external',
      retry: { maxAttempts: 1 },
      async run() {
        calls.hit(name);
        fn?.();
        return name;
      },
    });
    const flow = defineWorkflow({
      type: 'notify',
      steps: [
        step('record'),
        step('sync'),
        step('email', () => {
          if (!smtpUp) throw new RetryableError('connect ECONNREFUSED 127.0.0.1:2525');
        }),
        step('notice'),
      ],
    });
    const registry = createRegistry([flow]);
    const { runId } = await startWorkflow(db, registry, { type: 'notify', input: {} });
    const worker = testWorker(db, [flow]);
    await worker.drain();
    let run = await getRun(db, runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.failed_step, 'email');
    assert.match(JSON.stringify(run.error), /ECONNREFUSED/);
    assert.deepEqual(
      run.steps.map((s) => s.status),
      ['completed', 'completed', 'failed', 'pending'],
    );
    assert.deepEqual(calls.all(), { record: 1, sync: 1, email: 1 });

    smtpUp = true;
    const result = await restartRun(db, { runId, actor: 'user:ops', reason: 'SMTP is back' });
    assert.deepEqual(result.detail, { from_step: 'email', steps_to_run: ['email', 'notice'] });
    await worker.drain();
    run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(calls.all(), { record: 1, sync: 1, email: 2, notice: 1 });
    const email = run.steps[2];
    assert.deepEqual(
      email?.attempts.map((a) => (a as { outcome: string }).outcome),
      ['failed', 'completed'],
    );
    assert.deepEqual(
      run.events.map((e) => [e.action, e.actor, e.reason]),
      [['restart', 'user:ops', 'SMTP is back']],
    );
  });

  test('transient errors are retried per policy at durable times; then the run fails', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const attempts: number[] = [];
    const flow = defineWorkflow({
      type: 'flaky',
      steps: [
        {
          name: 'call',
          kind: 'external',
          retry: { maxAttempts: 3, initialDelayMs: 1000, factor: 3, jitter: 0, maxDelayMs: 60_000 },
          async run(ctx) {
            attempts.push(ctx.attempt);
            throw new Error('503 from provider');
          },
        },
      ],
    });
    const registry = createRegistry([flow]);
    const { runId } = await startWorkflow(db, registry, { type: 'flaky', input: {}, now: clock.now() });
    const worker = testWorker(db, [flow], { clock: clock.now });
    await worker.drain();
    let run = await getRun(db, runId);
    assert.equal(run.status, 'in_progress');
    assert.equal(run.activity, 'retrying');
    assert.equal(run.activity_until?.getTime(), clock.now().getTime() + 1000);
    clock.advance(999);
    await worker.drain();
    assert.deepEqual(attempts, [1], 'not retried before its time');
    clock.advance(1);
    await worker.drain();
    run = await getRun(db, runId);
    assert.equal(run.activity_until?.getTime(), clock.now().getTime() + 3000);
    clock.advance(3000);
    await worker.drain();
    assert.deepEqual(attempts, [1, 2, 3]);
    run = await getRun(db, runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.attempt, 3);
    assert.deepEqual(
      run.steps[0]?.attempts.map((a) => (a as { outcome: string }).outcome),
      ['retrying', 'retrying', 'failed'],
    );
  });

  test('a permanent error fails the run at once, without retries', async () => {
    const { db } = await freshDatabase(kind);
    let calls = 0;
    const flow = defineWorkflow({
      type: 'bad_data',
      steps: [
        {
          name: 'charge',
          kind: 'external',
          retry: { maxAttempts: 10, initialDelayMs: 1 },
          async run() {
            calls++;
            throw new PermanentError('card_declined: stolen_card');
          },
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'bad_data', input: {} });
    await testWorker(db, [flow]).drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'failed');
    assert.equal(calls, 1);
    assert.equal((run.error as { name: string }).name, 'PermanentError');
  });

  test('a step can wait durably and keep state between wake-ups', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const dueAt = new Date(clock.now().getTime() + 86_400_000);
    const wakes: unknown[] = [];
    const flow = defineWorkflow({
      type: 'dunning',
      steps: [
        {
          name: 'retry_payment',
          kind: 'external',
          async run(ctx) {
            wakes.push(ctx.state);
            const tries = ((ctx.state as { tries?: number } | undefined)?.tries ?? 0) + 1;
            if (tries < 3) return waitUntil(new Date(ctx.now().getTime() + 86_400_000), { tries });
            return { paid_on_try: tries };
          },
        },
        { name: 'after', kind: 'external', run: async (ctx) => ctx.outputs },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'dunning', input: {}, now: clock.now() });
    const worker = testWorker(db, [flow], { clock: clock.now });
    await worker.drain();
    let run = await getRun(db, runId);
    assert.equal(run.activity, 'waiting');
    assert.equal(run.activity_until?.getTime(), dueAt.getTime());
    assert.equal(run.steps[0]?.status, 'waiting');
    clock.advance(86_400_000);
    await worker.drain();
    clock.advance(86_400_000);
    await worker.drain();
    run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(wakes, [undefined, { tries: 1 }, { tries: 2 }]);
    assert.deepEqual(run.steps[1]?.output, { retry_payment: { paid_on_try: 3 } });
  });

  test('a step can finish the run early; the rest is marked skipped', async () => {
    const { db } = await freshDatabase(kind);
    const calls = callCounter();
    const flow = defineWorkflow({
      type: 'invoice',
      steps: [
        { name: 'record', kind: 'external', run: async () => calls.hit('record') },
        { name: 'await_payment', kind: 'external', run: async () => finishRun('paid', { paid: true }) },
        { name: 'send_overdue_warning', kind: 'external', run: async () => calls.hit('warn') },
        { name: 'disable_customer', kind: 'external', run: async () => calls.hit('disable') },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'invoice', input: {} });
    await testWorker(db, [flow]).drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.outcome, 'paid');
    assert.deepEqual(
      run.steps.map((s) => s.status),
      ['completed', 'completed', 'skipped', 'skipped'],
    );
    assert.deepEqual(calls.all(), { record: 1 });
  });

  test('a run keeps the step list it started with when the definition changes', async () => {
    const { db } = await freshDatabase(kind);
    const ran: string[] = [];
    const custom = new Map<string, boolean>([['custom:audit_hook', false]]);
    const step = (name: string): StepDefinition<unknown> => ({
      name,
      kind: 'external',
      run: async (ctx) => void ran.push(`${ctx.runId.slice(-4)}:${name}`),
    });
    // Custom steps are data: enabled ones are planned into new runs; disabled ones still resolve.
    const flow = defineWorkflow({
      type: 'pinned',
      steps: [step('first'), step('last')],
      plan: async () => ['first', ...[...custom].filter(([, on]) => on).map(([n]) => n), 'last'],
      resolveStep: async (name) => (custom.has(name) ? step(name) : undefined),
    });
    const registry = createRegistry([flow]);
    const before = await startWorkflow(db, registry, { type: 'pinned', input: {} });
    custom.set('custom:audit_hook', true);
    const withHook = await startWorkflow(db, registry, { type: 'pinned', input: {} });
    custom.set('custom:audit_hook', false);
    await testWorker(db, [flow]).drain();
    const a = await getRun(db, before.runId);
    const b = await getRun(db, withHook.runId);
    assert.deepEqual(
      a.steps.map((s) => s.name),
      ['first', 'last'],
    );
    assert.deepEqual(
      b.steps.map((s) => [s.name, s.status]),
      [
        ['first', 'completed'],
        ['custom:audit_hook', 'completed'],
        ['last', 'completed'],
      ],
    );
    assert.equal(ran.filter((r) => r.endsWith('custom:audit_hook')).length, 1);
  });

  test('a step whose definition disappeared fails the run with a clear error', async () => {
    const { db } = await freshDatabase(kind);
    const v1 = defineWorkflow({
      type: 'evolving',
      steps: [
        { name: 'one', kind: 'external', run: async () => 1 },
        { name: 'two', kind: 'external', run: async () => 2 },
      ],
    });
    const v2 = defineWorkflow({ type: 'evolving', steps: [{ name: 'one', kind: 'external', run: async () => 1 }] });
    const { runId } = await startWorkflow(db, createRegistry([v1]), { type: 'evolving', input: {} });
    await testWorker(db, [v2]).drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.failed_step, 'two');
    assert.match((run.error as { message: string }).message, /not defined/);
  });
});

eachDatabase((kind) => {
  test('an attempt past its timeout is aborted and retried', async () => {
    const { db } = await freshDatabase(kind);
    const signals: AbortSignal[] = [];
    const flow = defineWorkflow({
      type: 'hangs',
      steps: [
        {
          name: 'call_provider',
          kind: 'external',
          timeoutMs: 50,
          retry: { maxAttempts: 2, initialDelayMs: 0, jitter: 0 },
          async run(ctx) {
            signals.push(ctx.signal);
            if (ctx.attempt === 1) await new Promise(() => {}); // never answers
            return 'answered';
          },
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'hangs', input: {} });
    await testWorker(db, [flow]).drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.equal(signals[0]?.aborted, true);
    assert.equal(signals[1]?.aborted, false);
    const first = run.steps[0]?.attempts[0] as { outcome: string; error: { message: string } };
    assert.equal(first.outcome, 'retrying');
    assert.match(first.error.message, /timed out after 50 ms/);
  });
});

eachDatabase((kind) => {
  test('firstAttempt is true only for a step never tried before, even across a restart', async () => {
    const { db } = await freshDatabase(kind);
    const seen: [string, number, boolean][] = [];
    let fail = true;
    const flow = defineWorkflow({
      type: 'charges',
      steps: [
        { name: 'record', kind: 'db', run: async (ctx) => void seen.push(['record', ctx.attempt, ctx.firstAttempt]) },
        {
          name: 'charge',
          kind: 'external',
          retry: { maxAttempts: 2, initialDelayMs: 0, jitter: 0 },
          async run(ctx) {
            seen.push(['charge', ctx.attempt, ctx.firstAttempt]);
            if (fail) throw new Error('provider timeout');
            return 'charged';
          },
        },
      ],
    });
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'charges', input: {} });
    const worker = testWorker(db, [flow]);
    await worker.drain();
    fail = false;
    await restartRun(db, { runId, actor: 'test', reason: 'provider back' });
    await worker.drain();
    assert.equal((await getRun(db, runId)).status, 'completed');
    // After a restart the attempt count starts over, but the step has been tried: look up first.
    assert.deepEqual(seen, [
      ['record', 1, true],
      ['charge', 1, true],
      ['charge', 2, false],
      ['charge', 1, false],
    ]);
  });
});
