import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, startWorkflow } from '../../src/engine/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../src/engine/index.ts';
import type { StepDefinition } from '../../src/engine/define.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { claimDbJobs, runDbBatch } from '../helpers/engine.ts';

// In a batch's first pass the attempts of a db step declared `sideBySide` run together, their
// queries pipelined on the batch's connection; other steps run one after the other, and the
// steps of a batch follow each other in lock order (name, then run).

const events: string[] = [];
const inFlight = new Map<string, number>();
const mostInFlight = new Map<string, number>();

function writer(name: string, sideBySide: boolean): StepDefinition<unknown> {
  return {
    name,
    kind: 'db',
    sideBySide,
    async run(ctx: DbStepContext<unknown>) {
      events.push(`start ${name}`);
      const now = (inFlight.get(name) ?? 0) + 1;
      inFlight.set(name, now);
      mostInFlight.set(name, Math.max(mostInFlight.get(name) ?? 0, now));
      await ctx.tx.query('INSERT INTO writes (run_id, step, tx) VALUES ($1, $2, txid_current())', [ctx.runId, name]);
      inFlight.set(name, (inFlight.get(name) ?? 1) - 1);
      events.push(`end ${name}`);
      return { ok: true };
    },
  };
}

const alpha = writer('a_write', true);
const beta = writer('b_write', false);
const flows = [
  defineWorkflow({ type: 'alpha', steps: [alpha] }),
  defineWorkflow({ type: 'beta', steps: [beta] }),
] as unknown as AnyWorkflow[];
const registry = createRegistry(flows);

eachDatabase((kind) => {
  test('a batch runs the attempts of a sideBySide step together, other steps one by one, in lock order and one transaction', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec('CREATE TABLE writes (run_id text NOT NULL, step text NOT NULL, tx bigint NOT NULL)');
    // Started beta first: the batch, not the start order, puts a_write first.
    for (const type of ['beta', 'beta', 'beta', 'alpha', 'alpha', 'alpha']) {
      await startWorkflow(db, registry, { type, input: {} });
    }
    const jobs = await claimDbJobs(
      db,
      ['alpha', 'beta'],
      (row) => (row.type === 'alpha' ? alpha : beta) as StepDefinition<never>,
    );
    assert.equal(jobs.length, 6);
    events.length = 0;
    mostInFlight.clear();
    const { results } = await runDbBatch(db, jobs);

    assert.equal(mostInFlight.get('a_write'), 3, 'the three attempts of the sideBySide step were in flight at once');
    assert.equal(mostInFlight.get('b_write'), 1, 'the other step ran one attempt at a time');
    assert.deepEqual(events, [
      ...Array<string>(3).fill('start a_write'),
      ...Array<string>(3).fill('end a_write'),
      ...['start b_write', 'end b_write', 'start b_write', 'end b_write', 'start b_write', 'end b_write'],
    ]);
    const { rows } = await db.query<{ step: string; n: number; txs: number }>(
      'SELECT step, count(*)::int AS n, count(DISTINCT tx)::int AS txs FROM writes GROUP BY step ORDER BY step',
    );
    const { rows: all } = await db.query<{ txs: number }>('SELECT count(DISTINCT tx)::int AS txs FROM writes');
    assert.deepEqual(rows, [
      { step: 'a_write', n: 3, txs: 1 },
      { step: 'b_write', n: 3, txs: 1 },
    ]);
    assert.equal(all[0]?.txs, 1, 'both names committed in the same transaction');
    for (const job of jobs) {
      assert.ok(results.get(job)?.recorded, `${job.run.id} is recorded`);
      assert.equal((await getRun(db, job.run.id)).status, 'completed');
    }
  });
});

// A step that reads a row and writes from what it read: run side by side, two attempts would
// both read the same value. Not declared sideBySide, each attempt sees the one before it.
const bump: StepDefinition<unknown> = {
  name: 'bump',
  kind: 'db',
  async run(ctx: DbStepContext<unknown>) {
    const { rows } = await ctx.tx.query<{ value: number }>(`SELECT value FROM counters WHERE name = 'n'`);
    await ctx.tx.query(`UPDATE counters SET value = $1 WHERE name = 'n'`, [(rows[0]?.value ?? 0) + 1]);
    return null;
  },
};
const bumps = createRegistry([defineWorkflow({ type: 'bump', steps: [bump] }) as unknown as AnyWorkflow]);

eachDatabase((kind) => {
  test('a step not declared sideBySide reads what the attempt before it in the batch wrote', async () => {
    const { db } = await freshDatabase(kind);
    await db.exec(`CREATE TABLE counters (name text PRIMARY KEY, value int NOT NULL);
                   INSERT INTO counters VALUES ('n', 0)`);
    for (let i = 0; i < 4; i++) await startWorkflow(db, bumps, { type: 'bump', input: {} });
    await runDbBatch(db, await claimDbJobs(db, ['bump'], () => bump as StepDefinition<never>));
    const { rows } = await db.query<{ value: number }>(`SELECT value FROM counters WHERE name = 'n'`);
    assert.equal(rows[0]?.value, 4, 'four attempts in one batch counted four');
  });
});
