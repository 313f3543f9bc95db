import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateNotificationSettings } from '../../src/billing/notifications/index.ts';
import { createWorker, getRun } from '../../src/engine/index.ts';
import { connectPostgres } from '../../src/db/postgres.ts';
import { requestCancellation, startSubscription } from '../../src/billing/workflows/index.ts';
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
    // What is checked here is the order at the provider: no mail or Slack post in the way (on a
    // busy machine the in-process SMTP server answered too late for every retry of a run).
    for (const event of ['subscription_created', 'subscription_cancelled'] as const) {
      await updateNotificationSettings(db, event, { customer_email: false, slack: false }, 'test');
    }
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
      // Every run ends (a retry's backoff is passed on the test clock).
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
      // Per customer, the two provider syncs agree: the creation made it there and the
      // cancellation ended it, or the creation saw it cancelled and never sent it (then the
      // cancellation has nothing to end). Which one happens depends on timing; both are right.
      const pairs = await rows<{ created: string; cancelled: string }>(
        db,
        `SELECT c.output->>'action' AS created, x.output->>'action' AS cancelled
         FROM workflow_runs rc JOIN workflow_steps c ON c.run_id = rc.id AND c.name = 'sync_payment_provider'
         JOIN workflow_runs rx ON rx.type = 'subscription_cancellation' AND rx.input->>'subscription_id' = rc.input->>'subscription_id'
         JOIN workflow_steps x ON x.run_id = rx.id AND x.name = 'sync_payment_provider'
         WHERE rc.type = 'subscription_creation' AND rc.id = ANY($1)`,
        [runIds],
      );
      assert.equal(pairs.length, CUSTOMERS);
      const odd = pairs.filter(
        (p) =>
          !(p.created === 'created' && p.cancelled === 'cancelled') &&
          !(p.created === 'none' && p.cancelled === 'none'),
      );
      assert.deepEqual(odd, [], 'creation and cancellation disagree at the provider');
      const [atProvider] = await rows<{ n: number }>(
        db,
        `SELECT count(*)::int AS n FROM provider_sandbox_subscriptions`,
      );
      assert.equal(
        atProvider?.n,
        pairs.filter((p) => p.created === 'created').length,
        'exactly the subscriptions whose creation sent them are at the provider',
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
