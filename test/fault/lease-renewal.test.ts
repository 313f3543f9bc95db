// A long db step followed by a long external step: the worker must keep its lease through both.
// Regression: the db step's checkpoint is written inside the step's own transaction, where now()
// is when the transaction began. The lease left was computed from it, so the worker believed it
// had the step's duration more than it had, renewed too late, and a rival took over (and ran
// again) the external step while it was still running.
import assert from 'node:assert/strict';
import { createRegistry, createWorker, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { Logger, Worker } from '../../src/engine/index.ts';
import { faultDatabase, postgresTest, until } from './harness.ts';

const LEASE_MS = 1500;

postgresTest('a worker keeps its lease through a long db step and a long external step', async () => {
  const { db } = await faultDatabase();
  const executions: string[] = [];
  const warnings: string[] = [];
  const logger = (worker: string): Logger => ({
    debug: () => {},
    info: () => {},
    warn: (_obj, msg) => void warnings.push(`${worker}: ${msg ?? ''}`),
    error: (_obj, msg) => void warnings.push(`${worker}: ${msg ?? ''}`),
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // Each step alone stays within the lease; together they outlast it twice over.
  const flow = (worker: string) =>
    defineWorkflow({
      type: 'long_steps',
      steps: [
        {
          name: 'book',
          kind: 'db',
          async run(ctx) {
            executions.push(`${worker}:book`);
            await ctx.tx.query('SELECT 1');
            await sleep(LEASE_MS * 0.7);
            return null;
          },
        },
        {
          name: 'call',
          kind: 'external',
          async run() {
            executions.push(`${worker}:call`);
            await sleep(LEASE_MS * 1.2);
            return null;
          },
        },
      ],
    });
  const workers: Worker[] = [];
  const start = async (name: string) => {
    const worker = createWorker(db, {
      registry: createRegistry([flow(name)]),
      workerId: name,
      leaseMs: LEASE_MS,
      pollIntervalMs: 50,
      logger: logger(name),
    });
    workers.push(worker);
    await worker.start();
  };
  try {
    await start('first');
    const { runId } = await startWorkflow(db, createRegistry([flow('test')]), { type: 'long_steps', input: {} });
    await until('the first worker to start the run', async () => executions.length > 0);
    // A rival ready to take over the moment the lease runs out.
    await start('rival');
    await until('the run to complete', async () => (await getRun(db, runId)).status === 'completed', {
      timeoutMs: 10_000,
    });

    assert.deepEqual(executions, ['first:book', 'first:call'], 'each step ran once, on the first worker');
    assert.deepEqual(
      warnings.filter((w) => w.includes('rejected')),
      [],
      'no step result was refused',
    );
    const run = await getRun(db, runId);
    assert.deepEqual(
      run.steps.map((s) => s.attempts.map((a) => (a as { outcome: string }).outcome)),
      [['completed'], ['completed']],
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 3000 })));
  }
});
