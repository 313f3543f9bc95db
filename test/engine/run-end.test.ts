import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, PermanentError } from '../../src/errors.ts';
import {
  cancelRun,
  createRegistry,
  defineWorkflow,
  getRun,
  restartRun,
  startWorkflow,
} from '../../src/engine/index.ts';
import type { AnyWorkflow, RunEndContext } from '../../src/engine/index.ts';
import type { Db } from '../../src/db/types.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { deferred, testWorker } from '../helpers/engine.ts';

// A workflow's onEnd: told in the transaction that records its run's failure or cancellation,
// so what it settles commits exactly with that; a throw refuses a cancel and never loses a failure.

interface Ended {
  run_id: string;
  status: string;
  step_index: number;
  reason: string;
}

async function endLog(db: Db): Promise<Ended[]> {
  const { rows } = await db.query<Ended>('SELECT run_id, status, step_index, reason FROM end_log ORDER BY id');
  return rows;
}

function flow(options: { failing: Set<string>; hook?: (ctx: RunEndContext<unknown>) => Promise<void> }): AnyWorkflow {
  return defineWorkflow({
    type: 'settles',
    steps: [
      { name: 'reserve', kind: 'db', run: async () => ({ reserved: true }) },
      {
        name: 'call_out',
        kind: 'external',
        retry: { maxAttempts: 1 },
        async run() {
          if (options.failing.has('call_out')) throw new PermanentError('the provider said no');
          return { called: true };
        },
      },
      {
        name: 'write',
        kind: 'db',
        retry: { maxAttempts: 1 },
        async run() {
          if (options.failing.has('write')) throw new PermanentError('bad data');
          return { written: true };
        },
      },
    ],
    async onEnd(ctx) {
      await ctx.tx.query('INSERT INTO end_log (run_id, status, step_index, reason) VALUES ($1, $2, $3, $4)', [
        ctx.runId,
        ctx.status,
        ctx.stepIndex,
        ctx.reason,
      ]);
      await options.hook?.(ctx);
    },
  }) as AnyWorkflow;
}

eachDatabase((kind) => {
  const setup = async () => {
    const { db } = await freshDatabase(kind);
    await db.exec(
      'CREATE TABLE end_log (id serial PRIMARY KEY, run_id text, status text, step_index int, reason text)',
    );
    return db;
  };

  test('a run failing at an external or a db step tells onEnd once, in the failure; a restart failing again tells it again', async () => {
    const db = await setup();
    const failing = new Set(['call_out']);
    const definition = flow({ failing });
    const registry = createRegistry([definition]);
    const worker = testWorker(db, [definition]);
    const { runId } = await startWorkflow(db, registry, { type: 'settles', input: {} });
    await worker.drain();
    assert.equal((await getRun(db, runId)).status, 'failed');
    assert.deepEqual(await endLog(db), [
      { run_id: runId, status: 'failed', step_index: 1, reason: 'the provider said no' },
    ]);

    failing.clear();
    failing.add('write');
    await restartRun(db, { runId, actor: 'test', reason: 'provider fixed' });
    await worker.drain();
    const run = await getRun(db, runId);
    assert.deepEqual([run.status, run.failed_step], ['failed', 'write']);
    assert.deepEqual(
      (await endLog(db)).map((e) => [e.status, e.step_index, e.reason]),
      [
        ['failed', 1, 'the provider said no'],
        ['failed', 2, 'bad data'],
      ],
    );
  });

  test('a hook that throws on a failure: the failure stands, the hook wrote nothing, the run notes it', async () => {
    const db = await setup();
    const definition = flow({
      failing: new Set(['write']),
      hook: async () => {
        throw new Error('hook bug');
      },
    });
    const worker = testWorker(db, [definition]);
    const { runId } = await startWorkflow(db, createRegistry([definition]), { type: 'settles', input: {} });
    await worker.drain();
    const run = await getRun(db, runId);
    assert.deepEqual([run.status, run.failed_step], ['failed', 'write']);
    assert.deepEqual(await endLog(db), []);
    const noted = run.events.filter((e) => e.action === 'end_hook_failed');
    assert.equal(noted.length, 1);
    assert.equal(noted[0]?.reason, 'hook bug');
  });

  test('cancel tells onEnd in its transaction, with whether the step is running; a throw refuses the cancel', async () => {
    const db = await setup();
    const gate = deferred();
    const entered = deferred();
    let refuse = true;
    const definition = defineWorkflow({
      type: 'settles',
      steps: [
        {
          name: 'slow',
          kind: 'external',
          async run() {
            entered.resolve();
            await gate.promise;
            return {};
          },
        },
        { name: 'after', kind: 'external', run: async () => ({}) },
      ],
      async onEnd(ctx) {
        await ctx.tx.query('INSERT INTO end_log (run_id, status, step_index, reason) VALUES ($1, $2, $3, $4)', [
          ctx.runId,
          ctx.status,
          ctx.stepIndex,
          `${ctx.reason}; running=${ctx.stepRunning}`,
        ]);
        if (ctx.stepRunning && refuse) throw new ConflictError('not while it runs');
      },
    }) as AnyWorkflow;
    const registry = createRegistry([definition]);
    const worker = testWorker(db, [definition]);
    await worker.start();
    const { runId } = await startWorkflow(db, registry, { type: 'settles', input: {} });
    await entered.promise;
    await assert.rejects(cancelRun(db, { runId, actor: 'test', reason: 'stop' }, registry), ConflictError);
    assert.equal((await getRun(db, runId)).status, 'in_progress');
    assert.deepEqual(await endLog(db), []);

    refuse = false;
    await cancelRun(db, { runId, actor: 'test', reason: 'stop' }, registry);
    assert.equal((await getRun(db, runId)).status, 'cancelled');
    assert.deepEqual(await endLog(db), [
      { run_id: runId, status: 'cancelled', step_index: 0, reason: 'stop; running=true' },
    ]);
    gate.resolve();
    await worker.drain();
    assert.equal((await getRun(db, runId)).status, 'cancelled');
  });
});
