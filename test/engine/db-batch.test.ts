import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectPostgres } from '../../src/db/postgres.ts';
import type { Db } from '../../src/db/types.ts';
import { cancelRun, createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow } from '../../src/engine/index.ts';
import { PermanentError } from '../../src/errors.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { deferred, testWorker } from '../helpers/engine.ts';

// Group commit of db steps: ready db steps of several runs share one transaction, each in its own
// savepoint, and exactly-once holds for each of them.

async function counter(db: Db, name: string): Promise<number> {
  const { rows } = await db.query<{ value: number }>('SELECT value FROM counters WHERE name = $1', [name]);
  return rows[0]?.value ?? 0;
}

async function setup(db: Db): Promise<void> {
  await db.exec(`CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL);
                 INSERT INTO counters VALUES ('a', 0), ('b', 0);
                 CREATE TABLE step_tx (run_id text PRIMARY KEY, tx bigint NOT NULL)`);
}

eachDatabase((kind) => {
  test('db steps ready together commit together; one that throws mid-batch leaves no write and fails alone', async () => {
    const { db } = await freshDatabase(kind);
    await setup(db);
    const flow = defineWorkflow<{ n: number }>({
      type: 'count',
      steps: [
        {
          name: 'add',
          kind: 'db',
          async run(ctx) {
            await ctx.tx.query(`UPDATE counters SET value = value + 1 WHERE name = 'a'`);
            await ctx.tx.query('INSERT INTO step_tx VALUES ($1, txid_current())', [ctx.runId]);
            if (ctx.input.n === 7) throw new PermanentError('bad record');
            if (ctx.input.n === 11) throw new Error('transient, after its write');
            return { n: ctx.input.n };
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const ids: string[] = [];
    for (let n = 0; n < 24; n++) ids.push((await startWorkflow(db, registry, { type: 'count', input: { n } })).runId);
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], { concurrency: 32 });
    await worker.drain();

    // Both failures were rolled back to their savepoints: only the 22 others counted, once each.
    assert.equal(await counter(db, 'a'), 22 + 0);
    const failed = await getRun(db, ids[7] as string);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.steps[0]?.attempts.length, 1, 'a permanent error is not retried');
    const retrying = await getRun(db, ids[11] as string);
    assert.equal(retrying.status, 'in_progress');
    assert.equal(retrying.activity, 'retrying');
    for (const [i, id] of ids.entries()) {
      if (i === 7 || i === 11) continue;
      const run = await getRun(db, id);
      assert.equal(run.status, 'completed');
      assert.deepEqual(run.steps[0]?.output, { n: i });
    }
    // Group commit happened: the 22 committed steps share far fewer transactions than steps.
    const { rows } = await db.query<{ n: number }>('SELECT count(DISTINCT tx)::int AS n FROM step_tx');
    assert.ok((rows[0]?.n ?? 99) <= 4, `22 db steps used ${rows[0]?.n} transactions`);
  });

  test('a run taken from the worker mid-batch commits nothing; the rest of its batch commits', async () => {
    const { db } = await freshDatabase(kind);
    await setup(db);
    const inside = deferred();
    const release = deferred();
    let seen = 0;
    const flow = defineWorkflow<{ n: number }>({
      type: 'count',
      steps: [
        {
          name: 'add',
          kind: 'db',
          async run(ctx) {
            await ctx.tx.query(`UPDATE counters SET value = value + 1 WHERE name = 'a'`);
            if (++seen === 3) {
              inside.resolve();
              await release.promise;
            }
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push((await startWorkflow(db, registry, { type: 'count', input: { n } })).runId);
    const worker = testWorker(db, [flow as unknown as AnyWorkflow], { concurrency: 8 });
    const drained = worker.drain();
    await inside.promise;
    if (kind === 'pglite') {
      // One connection, held by the batch: no one can take a run away mid-batch on it.
      release.resolve();
      await drained;
      assert.equal(await counter(db, 'a'), 6);
      return;
    }
    // The batch locks its runs' rows only at its end: an operator cancels one run meanwhile.
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM workflow_runs WHERE status = 'in_progress' ORDER BY id LIMIT 1`,
    );
    const victim = rows[0]?.id as string;
    await cancelRun(db, { runId: victim, actor: 'test', reason: 'taken away' });
    release.resolve();
    await drained;
    assert.equal((await getRun(db, victim)).status, 'cancelled');
    assert.equal(await counter(db, 'a'), 5, 'the cancelled run wrote nothing, the 5 others once each');
    for (const id of ids.filter((id) => id !== victim)) assert.equal((await getRun(db, id)).status, 'completed');
  });

  test('two workers batching runs that update the same rows in opposite orders: every write exactly once', async () => {
    const { db, url } = await freshDatabase(kind);
    await setup(db);
    const flow = defineWorkflow<{ n: number }>({
      type: 'stats',
      steps: [
        {
          name: 'update_stats',
          kind: 'db',
          async run(ctx) {
            // Opposite lock orders in one batch and across workers: deadlocks are possible and
            // must be retried without counting anything twice.
            const order = ctx.input.n % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
            for (const name of order)
              await ctx.tx.query('UPDATE counters SET value = value + 1 WHERE name = $1', [name]);
            return null;
          },
        },
        {
          name: 'again',
          kind: 'db',
          async run(ctx) {
            await ctx.tx.query(`UPDATE counters SET value = value + 1 WHERE name = 'b'`);
            return null;
          },
        },
      ],
    });
    const registry = createRegistry([flow as unknown as AnyWorkflow]);
    const RUNS = 150;
    for (let n = 0; n < RUNS; n++) await startWorkflow(db, registry, { type: 'stats', input: { n } });
    const second: Db = url ? connectPostgres({ connectionString: url, maxConnections: 10 }) : db;
    const a = testWorker(db, [flow as unknown as AnyWorkflow], { concurrency: 32 });
    const b = testWorker(second, [flow as unknown as AnyWorkflow], { concurrency: 32 });
    await Promise.all([a.drain(), b.drain()]);
    await a.drain();
    if (second !== db) await second.close();
    const { rows } = await db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM workflow_runs GROUP BY status',
    );
    assert.deepEqual(rows, [{ status: 'completed', n: RUNS }]);
    assert.equal(await counter(db, 'a'), RUNS);
    assert.equal(await counter(db, 'b'), RUNS * 2);
    const { rows: attempts } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_steps WHERE jsonb_array_length(attempts) <> 1`,
    );
    assert.equal(attempts[0]?.n, 0, 'a conflict retried the batch, never a step attempt of its own');
  });
});
