import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../src/engine/index.ts';
import type { StepDefinition } from '../../src/engine/define.ts';
import { PermanentError } from '../../src/errors.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { callCounter, claimDbJobs, runDbBatch } from '../helpers/engine.ts';

// A batch of db steps runs its steps without savepoints first (db-batch.ts, Pass). These tests
// hand one batch of known order to executeDbBatch and check, in the database, that every way a
// step can go wrong in the middle of it leaves that step's writes out and commits the others.

type Behaviour = 'ok' | 'throws' | 'throws_after_write' | 'sql_error' | 'swallows_sql_error' | 'permanent';

interface Input {
  behaviour: Behaviour;
}

const calls = callCounter();

const step: StepDefinition<Input> = {
  name: 'write',
  kind: 'db',
  retry: { maxAttempts: 3 },
  async run(ctx: DbStepContext<Input>) {
    calls.hit(ctx.runId);
    await ctx.tx.query('INSERT INTO writes (run_id, tx) VALUES ($1, txid_current())', [ctx.runId]);
    await ctx.tx.query(`UPDATE counters SET value = value + 1 WHERE name = 'a'`);
    switch (ctx.input.behaviour) {
      case 'throws_after_write':
        throw new Error('transient, after its writes');
      case 'permanent':
        throw new PermanentError('bad record');
      case 'sql_error':
        // A duplicate key: the statement fails and, outside a savepoint, aborts the transaction.
        await ctx.tx.query('INSERT INTO writes (run_id, tx) VALUES ($1, 0)', [ctx.runId]);
        break;
      case 'swallows_sql_error':
        // A step that catches an SQL error and returns: its transaction is aborted all the same.
        await ctx.tx.query('SELECT 1 / 0').catch(() => undefined);
        break;
      default:
    }
    return { ok: true };
  },
};

// The same step declared sideBySide: a batch runs its attempts together (their writes are an
// insert and a single-statement increment), so several of them throw in one pass.
const together: StepDefinition<Input> = { ...step, sideBySide: true };

const flow = defineWorkflow<Input>({ type: 'mixed', steps: [step] });
const registry = createRegistry([flow as unknown as AnyWorkflow]);

async function setup(db: Db): Promise<void> {
  await db.exec(`CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL);
                 INSERT INTO counters VALUES ('a', 0);
                 CREATE TABLE writes (run_id text PRIMARY KEY, tx bigint NOT NULL)`);
}

/** Starts one run per behaviour, claims them all and executes their steps as ONE batch. */
async function runBatch(db: Db, behaviours: Behaviour[], jobStep: StepDefinition<Input>) {
  const ids: string[] = [];
  for (const behaviour of behaviours) {
    ids.push((await startWorkflow(db, registry, { type: 'mixed', input: { behaviour } })).runId);
  }
  const jobs = await claimDbJobs(db, ['mixed'], () => jobStep as StepDefinition<never>);
  assert.equal(jobs.length, behaviours.length);
  const { results } = await runDbBatch(db, jobs);
  const byRun = new Map([...results].map(([job, result]) => [job.run.id, result]));
  return { ids, byRun };
}

async function writesOf(db: Db) {
  const { rows } = await db.query<{ run_id: string; tx: string }>('SELECT run_id, tx::text AS tx FROM writes');
  const { rows: counter } = await db.query<{ value: number }>(`SELECT value FROM counters WHERE name = 'a'`);
  return { runs: new Set(rows.map((r) => r.run_id)), txs: new Set(rows.map((r) => r.tx)), counter: counter[0]?.value };
}

eachDatabase((kind) => {
  for (const [label, jobStep] of [
    ['one by one', step],
    ['side by side', together],
  ] as const) {
    test(`${label}: steps that throw in the middle of a batch leave no write, fail alone and run once; the others commit together`, async () => {
      const { db } = await freshDatabase(kind);
      await setup(db);
      const behaviours: Behaviour[] = ['ok', 'throws_after_write', 'ok', 'sql_error', 'ok', 'permanent', 'ok'];
      const { ids, byRun } = await runBatch(db, behaviours, jobStep);

      const ok = ids.filter((_, i) => behaviours[i] === 'ok');
      const { runs, txs, counter } = await writesOf(db);
      assert.deepEqual([...runs].sort(), [...ok].sort(), 'only the steps that returned wrote anything');
      assert.equal(counter, ok.length, 'each committed step counted once, no thrown step at all');
      assert.equal(txs.size, 1, 'the steps that returned committed in one transaction');

      for (const [i, id] of ids.entries()) {
        const result = byRun.get(id);
        assert.ok(result?.recorded, `run ${i} is recorded`);
        const run = await getRun(db, id);
        if (behaviours[i] === 'ok') {
          assert.equal(run.status, 'completed');
          assert.equal(run.steps[0]?.attempts.length, 1);
        } else if (behaviours[i] === 'permanent') {
          assert.equal(run.status, 'failed');
        } else {
          assert.equal(run.activity, 'retrying', `${behaviours[i]} is retried`);
        }
        // A step that threw is recorded with the failure it threw, not run a second time.
        if (behaviours[i] !== 'ok') assert.equal(calls.get(id), 1, `${behaviours[i]} ran once`);
      }
    });

    test(`${label}: a step that swallows an SQL error is found and retried alone, wherever it is in the batch`, async () => {
      const { db } = await freshDatabase(kind);
      await setup(db);
      // In the middle (the next step's query fails) and last (the checkpoint's statement fails).
      const behaviours: Behaviour[] = ['ok', 'swallows_sql_error', 'ok', 'ok', 'swallows_sql_error'];
      const { ids } = await runBatch(db, behaviours, jobStep);

      const ok = ids.filter((_, i) => behaviours[i] === 'ok');
      const { runs, txs, counter } = await writesOf(db);
      assert.deepEqual([...runs].sort(), [...ok].sort());
      assert.equal(counter, ok.length);
      assert.equal(txs.size, 1);
      for (const [i, id] of ids.entries()) {
        const run = await getRun(db, id);
        assert.equal(run.status === 'completed', behaviours[i] === 'ok', `run ${i}: ${run.status} ${run.activity}`);
        if (behaviours[i] !== 'ok') assert.equal(run.activity, 'retrying');
      }
    });
  }
});
