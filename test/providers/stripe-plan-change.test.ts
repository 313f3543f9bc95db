import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermanentError } from '../../src/errors.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';

// A plan change at Stripe: the subscription's item moves to the new plan's price with no
// proration (Billflow's own invoices carry it), keyed; a repeat finds it done and calls nothing.

const standIn = await startStripeStandIn();
const provider = createStripeProvider({ secretKey: standIn.secretKey, apiBase: standIn.url });

test('a plan change moves the item to the new price, without proration, once', async () => {
  const customer = await provider.ensureCustomer({
    idempotencyKey: 'run_pc:sync_payment_provider:customer',
    customerId: 'cus_pc',
    email: 'pc@example.com',
  });
  const basic = { code: 'basic_pc', name: 'Basic', amount: 1000, currency: 'EUR', interval: 'month' as const };
  const pro = { ...basic, code: 'pro_pc', name: 'Pro', amount: 3000 };
  const sub = await provider.createSubscription({
    idempotencyKey: 'run_pc:create',
    subscriptionId: 'sub_pc',
    customer: customer.provider_reference,
    plan: basic,
  });
  const changed = await provider.changeSubscriptionPlan({
    idempotencyKey: 'run_pc2:sync_payment_provider',
    providerReference: sub.provider_reference,
    plan: pro,
  });
  assert.equal(changed.provider_reference, sub.provider_reference);
  assert.equal(changed.current_period_end, sub.current_period_end);
  const stored = standIn.billing.subscriptions.get(sub.provider_reference);
  const price = stored?.items.data[0]?.price as { unit_amount: number } | undefined;
  assert.equal(price?.unit_amount, 3000);
  const updates = standIn.requests.filter(
    (r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.provider_reference}`,
  );
  assert.equal(updates.length, 1);
  assert.equal(updates[0]?.idempotencyKey, 'run_pc2:sync_payment_provider');
  assert.equal(updates[0]?.params.proration_behavior, 'none');

  const repeat = await provider.changeSubscriptionPlan({
    idempotencyKey: 'run_pc2:sync_payment_provider',
    providerReference: sub.provider_reference,
    plan: pro,
  });
  assert.deepEqual(repeat, changed);
  assert.equal(
    standIn.requests.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.provider_reference}`)
      .length,
    1,
  );

  await assert.rejects(
    provider.changeSubscriptionPlan({ idempotencyKey: 'run_pc3:x', providerReference: 'sub_missing', plan: pro }),
    PermanentError,
  );
});
