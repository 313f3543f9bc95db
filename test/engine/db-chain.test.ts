import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow, DbStepContext, StepAttemptEvent, StepDefinition } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { callCounter, claimDbJobs, runDbBatch, testWorker } from '../helpers/engine.ts';

// A run whose next step is a db step goes on with it in the same transaction (db-batch.ts,
// chain). These tests check in the database that a chained step's writes commit exactly when
// its checkpoint does, and that the counters a chain updates always equal a recount.

interface Input {
  /** Attempts of `second` that throw after their writes, per run. */
  secondThrows?: number;
  /** `second` moves its own run on (as another worker's takeover would): its checkpoint is refused. */
  secondLosesRun?: boolean;
}

const calls = callCounter();
const throwsLeft = new Map<string, number>();

async function setup(db: Db): Promise<void> {
  await db.exec(`CREATE TABLE chain_counters (step text PRIMARY KEY, n int NOT NULL);
                 INSERT INTO chain_counters VALUES ('first', 0), ('second', 0), ('third', 0);
                 CREATE TABLE chain_writes (run_id text NOT NULL, step text NOT NULL, tx bigint NOT NULL,
                                            PRIMARY KEY (run_id, step))`);
}

/** A db step that writes its row and counts itself, as a billing stats step does. */
function writer(name: string, body?: (ctx: DbStepContext<Input>) => Promise<void>): StepDefinition<Input> {
  return {
    name,
    kind: 'db',
    retry: { maxAttempts: 3, initialDelayMs: 0, jitter: 0 },
    async run(ctx) {
      calls.hit(`${ctx.runId}:${name}`);
      await ctx.tx.query('INSERT INTO chain_writes (run_id, step, tx) VALUES ($1, $2, txid_current())', [
        ctx.runId,
        name,
      ]);
      await ctx.tx.query('UPDATE chain_counters SET n = n + 1 WHERE step = $1', [name]);
      await body?.(ctx);
      return { step: name, seen: Object.keys(ctx.outputs).sort(), index: ctx.stepIndex };
    },
  };
}

const first = writer('first');
const second = writer('second', async (ctx) => {
  const left = throwsLeft.get(ctx.runId) ?? ctx.input.secondThrows ?? 0;
  throwsLeft.set(ctx.runId, left - 1);
  if (left > 0) throw new Error('transient, after its writes');
  if (ctx.input.secondLosesRun) {
    await ctx.tx.query('UPDATE workflow_runs SET version = version + 1 WHERE id = $1', [ctx.runId]);
  }
});
const third = writer('third');
const external: StepDefinition<Input> = { name: 'notify', kind: 'external', run: async () => ({ sent: true }) };

const flow = defineWorkflow<Input>({ type: 'chain', steps: [first, second, third, external] });

/** Every counter equals a recount of the rows its steps wrote: nothing counted twice or lost. */
async function assertCountersMatchRows(db: Db): Promise<void> {
  const { rows } = await db.query<{ step: string; n: number; rows: number }>(
    `SELECT c.step, c.n, (SELECT count(*)::int FROM chain_writes w WHERE w.step = c.step) AS rows
     FROM chain_counters c ORDER BY c.step`,
  );
  for (const row of rows) assert.equal(row.n, row.rows, `counter ${row.step} equals its rows`);
}

async function writesOf(db: Db, runId: string) {
  const { rows } = await db.query<{ step: string; tx: string }>(
    'SELECT step, tx::text AS tx FROM chain_writes WHERE run_id = $1 ORDER BY step',
    [runId],
  );
  return new Map(rows.map((r) => [r.step, r.tx]));
}

eachDatabase((kind) => {
  test('consecutive db steps of a run commit in one transaction, each with its own checkpoint and hooks', async () => {
    const { db } = await freshDatabase(kind);
    await setup(db);
    const attempts: StepAttemptEvent[] = [];
    const completed: string[] = [];
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], {
      hooks: { onStepAttempt: (e) => attempts.push(e), onRunCompleted: (e) => void completed.push(e.runId) },
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await startWorkflow(db, registry, { type: 'chain', input: {} })).runId);
    await worker.drain();
    await new Promise((resolve) => setImmediate(resolve));

    for (const id of ids) {
      const writes = await writesOf(db, id);
      assert.equal(writes.size, 3);
      assert.equal(new Set(writes.values()).size, 1, 'the three db steps of a run committed together');
      const run = await getRun(db, id);
      assert.equal(run.status, 'completed');
      assert.deepEqual(
        run.steps.map((s) => [s.name, s.status, s.attempts.length]),
        [
          ['first', 'completed', 1],
          ['second', 'completed', 1],
          ['third', 'completed', 1],
          ['notify', 'completed', 1],
        ],
      );
      // Each chained step saw the outputs of the steps before it, at its own index.
      assert.deepEqual(run.steps[2]?.output, { step: 'third', seen: ['first', 'second'], index: 2 });
      assert.deepEqual(
        attempts.filter((a) => a.runId === id).map((a) => `${a.step}:${a.outcome}`),
        ['first:completed', 'second:completed', 'third:completed', 'notify:completed'],
      );
      for (const step of ['first', 'second', 'third']) assert.equal(calls.get(`${id}:${step}`), 1);
    }
    assert.deepEqual([...completed].sort(), [...ids].sort());
    await assertCountersMatchRows(db);
  });

  test('a chained step that throws after its writes leaves them out; the steps before it commit with their checkpoints', async () => {
    const { db } = await freshDatabase(kind);
    await setup(db);
    const attempts: StepAttemptEvent[] = [];
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], {
      hooks: { onStepAttempt: (e) => attempts.push(e) },
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const failing = (await startWorkflow(db, registry, { type: 'chain', input: { secondThrows: 2 } })).runId;
    const fine = (await startWorkflow(db, registry, { type: 'chain', input: {} })).runId;
    await worker.drain();

    for (const id of [failing, fine]) {
      const run = await getRun(db, id);
      assert.equal(run.status, 'completed', `${id} completed`);
      const writes = await writesOf(db, id);
      assert.deepEqual([...writes.keys()], ['first', 'second', 'third'], 'one row per step, once');
    }
    const run = await getRun(db, failing);
    assert.deepEqual(
      run.steps[1]?.attempts.map((a) => (a as { outcome: string }).outcome),
      ['retrying', 'retrying', 'completed'],
    );
    assert.equal(run.steps[0]?.attempts.length, 1, 'the first step was recorded once');
    const writes = await writesOf(db, failing);
    assert.notEqual(writes.get('first'), writes.get('second'), 'the first step committed before the throw');
    assert.equal(writes.get('second'), writes.get('third'), 'the retry chained on again');
    assert.equal(calls.get(`${failing}:second`), 3);
    assert.deepEqual(
      attempts.filter((a) => a.runId === failing).map((a) => `${a.step}:${a.outcome}`),
      [
        'first:completed',
        'second:retrying',
        'second:retrying',
        'second:completed',
        'third:completed',
        'notify:completed',
      ],
    );
    await assertCountersMatchRows(db);
  });

  test('a chained step whose checkpoint is refused takes the whole run out of the batch; the other runs commit', async () => {
    const { db } = await freshDatabase(kind);
    await setup(db);
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const lost = (await startWorkflow(db, registry, { type: 'chain', input: { secondLosesRun: true } })).runId;
    const kept = (await startWorkflow(db, registry, { type: 'chain', input: {} })).runId;
    const jobs = await claimDbJobs(db, ['chain'], () => first as StepDefinition<never>);
    assert.equal(jobs.length, 2);
    const steps = [first, second, third] as StepDefinition<never>[];
    const { results } = await runDbBatch(db, jobs, {
      chain(job, outcome) {
        const step = steps[job.run.stepIndex + 1];
        if (!step) return undefined;
        const run = {
          ...job.run,
          stepIndex: job.run.stepIndex + 1,
          outputs: { ...job.run.outputs, [outcome.step]: outcome.output },
        };
        return { run, step, startedAt: new Date() };
      },
    });
    const byRun = new Map([...results].map(([job, result]) => [job.run.id, result]));
    assert.equal(byRun.get(lost)?.recorded, undefined, 'the refused run gets no record at all');
    assert.deepEqual(byRun.get(lost)?.chained, []);
    assert.deepEqual(
      byRun.get(kept)?.chained.map((c) => c.outcome.step),
      ['second', 'third'],
      'the other run chained up to its external step',
    );
    assert.equal((await writesOf(db, lost)).size, 0, "none of the refused run's steps left a write");
    assert.equal((await writesOf(db, kept)).size, 3);
    const run = await getRun(db, lost);
    assert.equal(run.step_index, 0, 'the refused run is where it was');
    assert.equal((await getRun(db, kept)).step_index, 3);
    await assertCountersMatchRows(db);
  });

  test('a chain stops at its bound and goes on in the next batch', async () => {
    const { db } = await freshDatabase(kind);
    await setup(db);
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const id = (await startWorkflow(db, registry, { type: 'chain', input: {} })).runId;
    const steps = [first, second, third] as StepDefinition<never>[];
    const jobs = await claimDbJobs(db, ['chain'], () => first as StepDefinition<never>);
    const { results } = await runDbBatch(db, jobs, {
      maxChain: 2,
      chain(job) {
        const step = steps[job.run.stepIndex + 1];
        return step
          ? { run: { ...job.run, stepIndex: job.run.stepIndex + 1 }, step, startedAt: new Date() }
          : undefined;
      },
    });
    const result = [...results.values()][0];
    assert.equal(result?.recorded?.step_index, 1);
    assert.deepEqual(
      result?.chained.map((c) => [c.outcome.step, c.recorded.step_index, c.recorded.continues]),
      [['second', 2, true]],
    );
    assert.deepEqual([...(await writesOf(db, id)).keys()], ['first', 'second']);
    assert.equal((await getRun(db, id)).step_index, 2);
  });
});
