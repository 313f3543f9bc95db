// Create-then-cancel of many subscriptions, run by two `billflow worker` processes on one
// PostgreSQL, one of them killed with -9 mid-way and started again: every subscription Billflow
// cancelled is cancelled at the provider too (the runs of one customer never race there).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestCancellation, startSubscription } from '../../src/billing/workflows/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { seedCustomer, seedPlan } from '../billing/helpers.ts';
import { STILL_ACTIVE_AT_PROVIDER } from '../billing/workflow-support.ts';
import { until } from './harness.ts';
import { killAndReplace, runStatuses, startingRegistry, twoWorkers } from './billflow-workers.ts';

const SUBSCRIPTIONS = 200;

test(
  'create then cancel 200 subscriptions across 2 worker processes, one killed -9: none stays active at the provider',
  // Worker processes share a PostgreSQL server; without one this is skipped locally, never in CI.
  {
    timeout: 300_000,
    skip: TEST_DATABASES.includes('postgres') || process.env.CI === 'true' ? false : 'needs PostgreSQL',
  },
  async () => {
    assert.ok(TEST_DATABASES.includes('postgres'), 'CI runs the fault tests on PostgreSQL');
    const { db, url } = await freshDatabase('postgres');
    assert.ok(url);
    const registry = startingRegistry(db, createSandboxProvider({ db }));
    const workers = await twoWorkers(url);
    try {
      const plan = await seedPlan(db, { amount: 900, currency: 'USD' });
      const customers = [];
      for (let i = 0; i < SUBSCRIPTIONS; i++) customers.push(await seedCustomer(db));
      const started: string[] = [];
      let killed = false;
      for (let i = 0; i < customers.length; i += 20) {
        const batch = await Promise.all(
          customers.slice(i, i + 20).map(async (customer) => {
            const created = await startSubscription(db, registry, { customer_id: customer.id, plan_code: plan.code });
            const cancelled = await requestCancellation(db, registry, {
              subscription_id: created.record.id,
              mode: 'immediately',
              refund: 'none',
            });
            return [created.runId, cancelled.runId];
          }),
        );
        started.push(...batch.flat());
        if (!killed && i >= SUBSCRIPTIONS / 2) {
          // Mid-way, with runs in flight on it: the first worker dies without a word.
          await killAndReplace(url, workers);
          killed = true;
        }
      }
      assert.equal(started.length, SUBSCRIPTIONS * 2);
      await until(
        'every run finished',
        async () => {
          const counts = await runStatuses(db);
          return (counts.pending ?? 0) + (counts.in_progress ?? 0) === 0 ? counts : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 250, describe: async () => JSON.stringify(await runStatuses(db)) },
      );
      const counts = await runStatuses(db);
      assert.deepEqual(counts, { completed: SUBSCRIPTIONS * 2 }, 'every run completed');
      assert.deepEqual(await db.query(STILL_ACTIVE_AT_PROVIDER).then((r) => r.rows), []);
      const { rows: cancelled } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM subscriptions WHERE status = 'cancelled'`,
      );
      assert.equal(cancelled[0]?.n, SUBSCRIPTIONS);
      const stats = await compareStats(db);
      assert.deepEqual(stats.differences, []);
    } catch (error) {
      for (const w of workers) console.error(w.tail());
      throw error;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  },
);
