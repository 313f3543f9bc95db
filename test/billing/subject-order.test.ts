import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWorker, getRun } from '../../src/engine/index.ts';
import { connectPostgres } from '../../src/db/postgres.ts';
import { requestCancellation, startSubscription } from '../../src/billing/operations/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import { seedCustomer, seedPlan } from './helpers.ts';
import { STILL_ACTIVE_AT_PROVIDER, rows } from './workflow-support.ts';
import type { BillingHarness } from './harness.ts';

// Runs about one customer never race each other at the provider: a subscription created and
// cancelled at once, for many customers concurrently on two workers, ends cancelled at the
// provider too (the cancellation's provider sync waits for the creation's).
const CUSTOMERS = 40;

/** Waits until none of the runs is pending or in progress, moving the clock past retry backoffs. */
async function settleAll(h: BillingHarness, runIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await rows<{ activity: string | null }>(
      h.db,
      `SELECT wait_reason AS activity FROM workflow_runs WHERE id = ANY($1) AND status IN ('pending', 'in_progress')`,
      [runIds],
    );
    if (open.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${open.length} runs still open`);
    if (open.some((r) => r.activity === 'retry')) h.clock.advance(10 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

eachDatabase((kind) => {
  test('create then cancel at once, many customers, two workers: nothing stays active at the provider', async () => {
    const h = await billingHarness(kind);
    const { db } = h;
    // A second worker on its own connections, as a second process would have.
    const url = h.url;
    const otherDb = url ? connectPostgres({ connectionString: url, maxConnections: 10 }) : db;
    const second = createWorker(otherDb, { registry: h.registry, pollIntervalMs: 50, clock: h.clock.now });
    await second.start();
    try {
      const plan = await seedPlan(db, { amount: 1500, currency: 'EUR' });
      const customers = await Promise.all(Array.from({ length: CUSTOMERS }, () => seedCustomer(db)));
      const runIds = (
        await Promise.all(
          customers.map(async (customer) => {
            const created = await startSubscription(
              db,
              h.registry,
              { customer_id: customer.id, plan_code: plan.code },
              { now: h.clock.now() },
            );
            const cancelled = await requestCancellation(
              db,
              h.registry,
              { subscription_id: created.record.id, mode: 'immediately', refund: 'none' },
              { now: h.clock.now() },
            );
            return [created.runId, cancelled.runId];
          }),
        )
      ).flat();
      // Every run ends; an email that timed out on a busy machine is retried on the test clock.
      await settleAll(h, runIds, 240_000);
      for (const runId of runIds) {
        const run = await getRun(db, runId);
        assert.equal(
          run.status,
          'completed',
          `${run.type} ${run.id} at ${run.failed_step}: ${JSON.stringify(run.error)}`,
        );
      }
      assert.deepEqual(await rows(db, STILL_ACTIVE_AT_PROVIDER), []);
      const [cancelled] = await rows<{ n: number }>(
        db,
        `SELECT count(*)::int AS n FROM subscriptions WHERE status = 'cancelled'`,
      );
      assert.equal(cancelled?.n, CUSTOMERS);
      // Each cancellation's provider sync found the subscription its creation had made there.
      const syncs = await rows<{ action: string }>(
        db,
        `SELECT s.output->>'action' AS action FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id
         WHERE r.type = 'subscription_cancellation' AND s.name = 'sync_payment_provider'`,
      );
      assert.equal(syncs.length, CUSTOMERS);
      assert.ok(
        syncs.every((s) => s.action !== 'none'),
        `a cancellation found nothing at the provider: ${JSON.stringify(syncs)}`,
      );
      const stats = await compareStats(db);
      assert.deepEqual(stats.differences, [], 'statistics equal the recount');
      assert.equal(stats.equal, true);
    } finally {
      await second.stop({ graceMs: 1000 });
      if (otherDb !== db) await otherDb.close();
    }
  });
});
