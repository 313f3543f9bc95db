import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRegistry,
  dbStep,
  defineWorkflow,
  externalStep,
  getRun,
  isSkippedOutput,
  skipFailedStep,
  startWorkflow,
  waitUntil,
} from '../../src/engine/index.ts';
import type { DbStepContext, StepContext } from '../../src/engine/index.ts';
import { PermanentError } from '../../src/errors.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

// A later step reads an earlier one's output through the earlier step's handle, typed by what
// that step's run returns: no step name typed twice, no cast.

interface Order {
  amount: number;
}

eachDatabase((kind) => {
  test('a later step reads an earlier step output through its typed handle; a wait is not an output', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const charged = externalStep({
      name: 'charge',
      async run(ctx: StepContext<Order>) {
        // Waits once: what a later step reads is the output, never the control.
        if (ctx.state === undefined) return waitUntil(new Date(ctx.now().getTime() + 1000), 'later');
        return { charge_id: `ch_${ctx.input.amount}`, amount: ctx.input.amount };
      },
    });
    const recorded = dbStep({
      name: 'record',
      async run(ctx: DbStepContext<Order>) {
        const { charge_id, amount } = charged.output(ctx);
        // @ts-expect-error the output has no such field: the compiler says so
        void charged.output(ctx).missing;
        return { recorded: charge_id, cents: amount * 100 };
      },
    });
    const flow = defineWorkflow<Order>({
      type: 'typed',
      steps: [
        charged,
        recorded,
        dbStep({
          name: 'report',
          run: async (ctx: DbStepContext<Order>) => ({
            line: `${recorded.output(ctx).recorded}: ${recorded.output(ctx).cents}`,
          }),
        }),
      ],
    });
    const worker = testWorker(db, [flow], { clock: clock.now });
    const { runId } = await startWorkflow(db, createRegistry([flow]), {
      type: 'typed',
      input: { amount: 12 },
      now: clock.now(),
    });
    await worker.drain();
    clock.advance(1000);
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    assert.deepEqual(
      run.steps.map((s) => s.output),
      [{ charge_id: 'ch_12', amount: 12 }, { recorded: 'ch_12', cents: 1200 }, { line: 'ch_12: 1200' }],
    );
    assert.equal(charged.name, 'charge');
    assert.equal(charged.kind, 'external');
    assert.equal(recorded.kind, 'db');
  });

  test('reading a skipped step: output() fails the reader for good naming the skip, outputOrSkipped() gives the marker', async () => {
    const { db } = await freshDatabase(kind);
    const provider = externalStep({
      name: 'provider_call',
      async run(): Promise<{ status: string }> {
        throw new PermanentError('refused');
      },
    });
    const seen: unknown[] = [];
    const tolerant = dbStep({
      name: 'tolerant',
      async run(ctx: DbStepContext<unknown>) {
        const made = provider.outputOrSkipped(ctx);
        seen.push(isSkippedOutput(made) ? `skipped: ${made.reason}` : made.status);
        return { ok: true };
      },
    });
    const strict = dbStep({
      name: 'strict',
      async run(ctx: DbStepContext<unknown>) {
        return { status: provider.output(ctx).status };
      },
    });
    const flow = defineWorkflow({ type: 'typed_skip', steps: [provider, tolerant, strict] });
    const worker = testWorker(db, [flow]);
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'typed_skip', input: {} });
    await worker.drain();
    await skipFailedStep(db, { runId, actor: 'user:ana', reason: 'refunded by hand' });
    await worker.drain();
    const run = await getRun(db, runId);
    // `strict` runs in the same transaction as `tolerant` and throws, so `tolerant` may run once
    // more before it commits (db-batch.ts, Pass): what it saw is the marker each time.
    assert.deepEqual([...new Set(seen)], ['skipped: refunded by hand']);
    assert.equal(run.status, 'failed');
    assert.equal(run.steps[2]?.name, 'strict');
    assert.equal(run.steps[2]?.status, 'failed');
    // Failed at once (a permanent error): one attempt, and the message names the skipped step.
    assert.equal(run.steps[2]?.attempts.length, 1);
    assert.match(
      JSON.stringify(run.steps[2]?.error),
      /step strict needs the output of provider_call, which an operator skipped \(refunded by hand\)/,
    );
  });
});
