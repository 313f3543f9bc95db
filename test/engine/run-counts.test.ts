import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../../src/db/types.ts';
import { PermanentError } from '../../src/errors.ts';
import {
  advanceOperations,
  bulkRestart,
  cancelRun,
  compactRunCounts,
  countRuns,
  createRegistry,
  createStarter,
  defineWorkflow,
  restartRun,
  runNow,
  skipFailedStep,
  startWorkflow,
  waitUntil,
} from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';

// GET /workflows/counts reads counters that triggers keep (migration 0016) instead of counting
// every run. They must equal a count of the runs in any snapshot, however the statuses change:
// starts one by one and in batches, claims, checkpoints, failures, waits, operator actions, bulk
// restarts, deletes, and the folding of the counters itself, all at once.

/** The counters and a GROUP BY over the runs, read in one snapshot. */
async function bothCounts(db: Db) {
  return db.transaction(async (tx: Queryable) => {
    // Must come first in the transaction: both reads then see the same snapshot on PostgreSQL.
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const counted = await countRuns(tx);
    const { rows } = await tx.query<{ type: string; status: string; count: number }>(
      `SELECT type, status, count(*)::int AS count FROM workflow_runs GROUP BY type, status ORDER BY type, status`,
    );
    return { counted, grouped: rows };
  });
}

eachDatabase((kind) => {
  test('run counts equal a GROUP BY of the runs during and after a burst of failures, restarts, cancels and skips', async () => {
    const { db } = await freshDatabase(kind);
    // Half the `charge` attempts fail for good while `broken`; `settle` parks on a timer for some.
    let broken = true;
    let attempts = 0;
    const flaky = defineWorkflow<{ wait?: boolean }>({
      type: 'flaky',
      steps: [
        { name: 'record', kind: 'db', run: async ({ tx }) => (await tx.query('SELECT 1')).rowCount },
        {
          name: 'charge',
          kind: 'external',
          retry: { maxAttempts: 1 },
          async run() {
            if (broken && attempts++ % 2 === 0) throw new PermanentError('the provider said no');
            return 'charged';
          },
        },
        {
          name: 'settle',
          kind: 'external',
          async run({ input, state }) {
            return input.wait && state === undefined ? waitUntil(new Date(Date.now() + 3_600_000), 1) : 'settled';
          },
        },
      ],
    });
    const other = defineWorkflow({
      type: 'other',
      steps: [{ name: 'only', kind: 'external', run: async () => 'ok' }],
    });
    const registry = createRegistry([flaky, other]);
    const workers = [testWorker(db, [flaky, other], { concurrency: 16 })];
    // Two workers share a PostgreSQL; the embedded database has one connection anyway.
    if (kind === 'postgres') workers.push(testWorker(db, [flaky, other], { concurrency: 16 }));
    for (const worker of workers) await worker.start();
    const starter = createStarter(db, registry, { worker: workers[0] });

    const ids: string[] = [];
    const starts = (async () => {
      for (let wave = 0; wave < 6; wave++) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, (_, i) => starter.start({ type: 'flaky', input: { wait: i % 5 === 0 } })),
        );
        ids.push(...batch.map((r) => r.runId));
        ids.push((await startWorkflow(db, registry, { type: 'other', input: {} })).runId);
        // A run that starts later: pending until an operator runs it now.
        ids.push(
          (await startWorkflow(db, registry, { type: 'flaky', input: {}, runAt: new Date(Date.now() + 3_600_000) }))
            .runId,
        );
      }
    })();

    const actor = 'user:usr_test';
    const actions = (async () => {
      for (let round = 0; round < 40; round++) {
        const action = [restartRun, cancelRun, skipFailedStep, runNow][round % 4] ?? runNow;
        // A skip needs a failed run: take one that is failed now, whichever the burst made.
        const runId =
          action === skipFailedStep
            ? ((await db.query<{ id: string }>(`SELECT id FROM workflow_runs WHERE status = 'failed' LIMIT 1`)).rows[0]
                ?.id ?? ids[(round * 7) % Math.max(ids.length, 1)])
            : ids[(round * 7) % Math.max(ids.length, 1)];
        if (runId) {
          // Conflicts (the run is not in a state the action allows) are expected and change nothing.
          await action(db, { runId, actor, reason: `round ${round}` }).catch(() => undefined);
        }
        if (round % 10 === 5) {
          await bulkRestart(db, {
            filter: { type: 'flaky', includePermanent: true },
            dryRun: false,
            reason: 'burst',
            actor,
          });
        }
        if (round % 3 === 0) await Promise.all([compactRunCounts(db), compactRunCounts(db)]);
        if (round % 8 === 0) {
          const { counted, grouped } = await bothCounts(db);
          assert.deepEqual(counted, grouped, `counters differ from the runs mid-burst (round ${round})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await Promise.all([starts, actions]);

    broken = false;
    for (const worker of workers) await worker.drain();
    await bulkRestart(db, { filter: { includePermanent: true }, dryRun: false, reason: 'fixed', actor });
    while ((await advanceOperations(db, { limit: 500, now: null })) > 0);
    for (const runId of ids) await runNow(db, { runId, actor, reason: 'now' }).catch(() => undefined);
    for (const worker of workers) await worker.drain();
    // Timers set by the runs just woken (each waits once) are an hour away: wake them again.
    for (const runId of ids) await runNow(db, { runId, actor, reason: 'now' }).catch(() => undefined);
    for (const worker of workers) await worker.drain();

    const { rows: statuses } = await db.query<{ status: string }>('SELECT DISTINCT status FROM workflow_runs');
    // The burst went through every status the counters have to follow.
    assert.deepEqual(
      statuses.map((r) => r.status).sort(),
      ['cancelled', 'completed'],
      'every run ended: failed ones were restarted, waiting and scheduled ones run now',
    );
    const { rows: events } = await db.query<{ action: string }>(
      'SELECT DISTINCT action FROM workflow_run_events ORDER BY action',
    );
    assert.deepEqual(
      events.map((e) => e.action),
      ['cancel', 'restart', 'run_now', 'skip_step'],
    );

    let { counted, grouped } = await bothCounts(db);
    assert.deepEqual(counted, grouped);
    assert.equal(
      counted.reduce((sum, c) => sum + c.count, 0),
      ids.length,
    );

    // Folded into one row per type and status, and still the same.
    await compactRunCounts(db);
    const { rows: perKey } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM workflow_run_counts GROUP BY type, status HAVING count(*) > 1',
    );
    assert.deepEqual(perKey, []);
    ({ counted, grouped } = await bothCounts(db));
    assert.deepEqual(counted, grouped);

    // Rows removed by hand (pruning history) leave the counters as well.
    await db.query(`DELETE FROM workflow_runs WHERE type = 'other'`);
    ({ counted, grouped } = await bothCounts(db));
    assert.deepEqual(counted, grouped);
    assert.equal(
      counted.find((c) => c.type === 'other'),
      undefined,
    );
  });

  test('folding the counters when nothing changed writes nothing', async () => {
    const { db } = await freshDatabase(kind);
    const flow = defineWorkflow({ type: 'one', steps: [{ name: 'a', kind: 'external', run: async () => 1 }] });
    await startWorkflow(db, createRegistry([flow]), { type: 'one', input: {} });
    await startWorkflow(db, createRegistry([flow]), { type: 'one', input: {} });
    assert.equal(await compactRunCounts(db), 2);
    assert.equal(await compactRunCounts(db), 0);
    assert.deepEqual(await countRuns(db), [{ type: 'one', status: 'pending', count: 2 }]);
  });
});
