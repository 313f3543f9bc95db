import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, getRun, restartRun, startWorkflow } from '../../src/engine/index.ts';
import { createSubscription, getCustomer, type SubscriptionInput } from '../../src/billing/records/index.ts';
import { inputParser } from '../../src/billing/records/schemas.ts';
import { SubscriptionRequest } from '../../src/billing/workflows/subscription-creation/input.ts';
import { compareStats, countSubscriptionCreated, refreshCustomerStatus } from '../../src/billing/stats/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { testWorker } from '../helpers/engine.ts';
import { count, seedCustomer, seedPlan } from './helpers.ts';

/**
 * The records and stats functions as the workflows use them: inside db steps (`ctx.tx`), with
 * failures after the write, automatic retries and an operator restart. The counters must come
 * out exactly equal to a recount of the records.
 */
let statsFailuresLeft = 0;
let emailDown = false;

const subscriptionCreation = defineWorkflow<SubscriptionInput>({
  type: 'subscription_creation',
  parseInput: inputParser(SubscriptionRequest),
  steps: [
    {
      name: 'create_subscription_record',
      kind: 'db',
      async run(ctx) {
        const subscription = await createSubscription(ctx.tx, ctx.input, { at: ctx.now() });
        return { subscription_id: subscription.id };
      },
    },
    {
      name: 'update_stats',
      kind: 'db',
      retry: { maxAttempts: 5, initialDelayMs: 0, jitter: 0 },
      async run(ctx) {
        const { subscription_id } = ctx.outputs.create_subscription_record as { subscription_id: string };
        const counted = await countSubscriptionCreated(ctx.tx, subscription_id);
        const status = await refreshCustomerStatus(ctx.tx, ctx.input.customer_id, ctx.now());
        if (statsFailuresLeft > 0) {
          statsFailuresLeft--;
          throw new Error('crash after the stats were written');
        }
        return { counted, status: status.after };
      },
    },
    {
      name: 'send_customer_email',
      kind: 'external',
      retry: { maxAttempts: 1 },
      async run() {
        if (emailDown) throw new Error('smtp down');
        return null;
      },
    },
  ],
});
const registry = createRegistry([subscriptionCreation]);

eachDatabase((kind) => {
  test('records and stats written in db steps stay exact through retries and a restart', async () => {
    const { db } = await freshDatabase(kind);
    const plan = await seedPlan(db, { amount: 1500 });
    const worker = testWorker(db, [subscriptionCreation]);
    const customers = await Promise.all([seedCustomer(db), seedCustomer(db), seedCustomer(db)]);

    statsFailuresLeft = 2;
    emailDown = true;
    const started = await Promise.all(
      customers.map((c) =>
        startWorkflow(db, registry, {
          type: 'subscription_creation',
          input: { customer_id: c.id, plan_code: plan.code },
          idempotencyKey: `create-${c.id}`,
          runFirstStep: true,
        }),
      ),
    );
    assert.ok(
      started.every((s) => typeof (s.firstStepOutput as { subscription_id?: string }).subscription_id === 'string'),
    );
    await worker.drain();
    for (const s of started) assert.equal((await getRun(db, s.runId)).failed_step, 'send_customer_email');

    emailDown = false;
    for (const s of started) await restartRun(db, { runId: s.runId, actor: 'test', reason: 'smtp back' });
    await worker.drain();
    for (const s of started) assert.equal((await getRun(db, s.runId)).status, 'completed');

    assert.equal(await count(db, 'subscriptions'), 3);
    const comparison = await compareStats(db);
    assert.deepEqual(comparison.differences, []);
    assert.equal(comparison.equal, true);
    for (const c of customers) assert.equal((await getCustomer(db, c.id)).status, 'active');

    // Bad input is refused at start, with the field named, and creates neither run nor record.
    await assert.rejects(
      startWorkflow(db, registry, {
        type: 'subscription_creation',
        input: { customer_id: customers[0]?.id, plan_code: 'no-such-plan' },
        runFirstStep: true,
      }),
      (e: unknown) => (e as { errors?: { field: string }[] }).errors?.[0]?.field === 'plan_code',
    );
    assert.equal(await count(db, 'subscriptions'), 3);
    assert.equal(await count(db, 'workflow_runs'), 3);
  });
});
