import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import { loadMigrations, migrate, pendingMigrations } from '../../src/db/migrate.ts';
import { connectPostgres } from '../../src/db/postgres.ts';
import { countRuns, createRegistry, defineWorkflow, listRuns, startWorkflow } from '../../src/engine/index.ts';
import type { RunSummary } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

const ok = defineWorkflow({ type: 'ok_flow', steps: [{ name: 'only', kind: 'external', run: async () => 1 }] });
const bad = defineWorkflow({
  type: 'bad_flow',
  steps: [
    {
      name: 'send_customer_email',
      kind: 'external',
      retry: { maxAttempts: 1 },
      run: async () => {
        throw new Error('smtp down');
      },
    },
  ],
});
const registry = createRegistry([ok, bad]);

eachDatabase((kind) => {
  test('keyset pages walk every matching run once, newest first, with filters', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    for (let i = 0; i < 23; i++) {
      clock.advance(1000);
      const type = i % 3 === 0 ? 'bad_flow' : 'ok_flow';
      await startWorkflow(db, registry, {
        type,
        input: { i },
        now: clock.now(),
        subjectRef: `inv_${i}`,
        ownerRef: `cus_${i % 2}`,
      });
    }
    await testWorker(db, [ok, bad], { clock: clock.now }).drain();

    const walk = async (filter: Parameters<typeof listRuns>[1], limit: number) => {
      const seen: RunSummary[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await listRuns(db, filter, { limit, cursor });
        seen.push(...page.items);
        if (!page.next_cursor) return seen;
        cursor = page.next_cursor;
      }
    };
    const all = await walk({}, 5);
    assert.equal(all.length, 23);
    assert.equal(new Set(all.map((r) => r.id)).size, 23);
    const times = all.map((r) => r.created_at.getTime());
    assert.deepEqual(
      times,
      [...times].sort((x, y) => y - x),
    );

    const failed = await walk({ status: 'failed', type: 'bad_flow', failedStep: 'send_customer_email' }, 3);
    assert.equal(failed.length, 8);
    assert.ok(failed.every((r) => r.status === 'failed' && r.current_step === 'send_customer_email'));
    assert.equal((await walk({ ownerRef: 'cus_1' }, 4)).length, 11);
    assert.deepEqual(
      (await walk({ subjectRef: 'inv_7' }, 10)).map((r) => r.subject_ref),
      ['inv_7'],
    );
    const window = await walk(
      { createdAfter: new Date(times[9] as number), createdBefore: new Date(times[4] as number) },
      2,
    );
    assert.equal(window.length, 5);

    assert.deepEqual(await countRuns(db), [
      { type: 'bad_flow', status: 'failed', count: 8 },
      { type: 'ok_flow', status: 'completed', count: 15 },
    ]);
  });

  test('a forged cursor or a bad limit is refused by field', async () => {
    const { db } = await freshDatabase(kind);
    await assert.rejects(
      listRuns(db, {}, { cursor: 'not-a-cursor' }),
      (e: unknown) => e instanceof InvalidInputError && e.errors[0]?.field === 'cursor',
    );
    await assert.rejects(
      listRuns(db, {}, { limit: 0 }),
      (e: unknown) => e instanceof InvalidInputError && e.errors[0]?.field === 'limit',
    );
  });

  test('migrations run once even when several processes start together', async () => {
    const { db, url } = await freshDatabase(kind, { migrate: false });
    // On PostgreSQL, separate pools stand for separate processes.
    const dbs = url ? [0, 1, 2].map(() => connectPostgres({ connectionString: url, maxConnections: 2 })) : [db, db, db];
    try {
      const results = await Promise.all(dbs.map((d) => migrate(d)));
      assert.equal(results.flat().filter((name) => name === '0001_workflow_runs').length, 1);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM billflow_migrations');
      assert.equal(rows[0]?.n, (await loadMigrations()).length);
      assert.deepEqual(await pendingMigrations(db), []);
    } finally {
      if (url) await Promise.all(dbs.map((d) => d.close()));
    }
  });
});
