import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartRun, getRun } from '../../src/engine/index.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { formatMoney } from '../../src/notify/index.ts';
import { getCustomer, getSubscription } from '../../src/billing/records/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { startSubscription } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer, seedPlan } from './helpers.ts';
import {
  assertCompleted,
  attempts,
  counters,
  driveRetries,
  mailsTo,
  rows,
  slackMentioning,
  step,
  switchableProvider,
} from './workflow-support.ts';
import type { SwitchableProvider } from './workflow-support.ts';

// subscription_creation end to end through startSubscription: every step's effect, on the
// sandbox and on the Stripe stand-in, and its failure paths (SMTP down, provider 5xx and 4xx).
const standIn = await startStripeStandIn();

async function statsExact(h: BillingHarness) {
  const comparison = await compareStats(h.db);
  assert.deepEqual(comparison.differences, []);
}

eachDatabase((kind) => {
  let switchable: SwitchableProvider | undefined;
  const harness = billingHarness(kind, {
    provider: (db, now) => (switchable = switchableProvider(standIn, db, now)).provider,
  });
  const setup = async (provider: 'sandbox' | 'stripe' = 'sandbox') => {
    const h = await harness;
    switchable?.use(provider);
    standIn.clearFaults();
    return h;
  };

  test('creates the subscription, syncs the sandbox, counts it, mails the customer and tells the team', async () => {
    const h = await setup();
    const plan = await seedPlan(h.db, { amount: 4900, currency: 'EUR', code: `pro-${kind}` });
    const customer = await seedCustomer(h.db, { name: 'Ada Lovelace' });
    const started = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_ok' },
      { idempotencyKey: `api:create-${kind}`, now: h.clock.now() },
    );
    assert.equal(started.created, true);
    assert.match(started.record.id, /^sub_/);
    assert.equal(started.record.status, 'active');

    const run = await h.settle(started.runId);
    assertCompleted(run);
    assert.equal(run.subject_ref, started.record.id);
    assert.equal(run.owner_ref, customer.id);
    assert.deepEqual(
      run.steps.map((s) => s.name),
      [
        'create_subscription_record',
        'sync_payment_provider',
        'update_stats',
        'send_customer_email',
        'send_internal_notice',
      ],
    );
    assert.ok(Object.values(attempts(run)).every((n) => n === 1));

    // Provider: the sandbox holds the customer and a subscription carrying our id; both ids are stored here.
    const subscription = await getSubscription(h.db, started.record.id);
    const stored = await getCustomer(h.db, customer.id);
    const [sandboxSub] = await rows<{ id: string; customer: string; plan_code: string }>(
      h.db,
      'SELECT id, customer, plan_code FROM provider_sandbox_subscriptions WHERE subscription_id = $1',
      [subscription.id],
    );
    assert.ok(sandboxSub);
    assert.equal(subscription.provider_subscription_id, sandboxSub.id);
    assert.equal(stored.provider_customer_id, sandboxSub.customer);
    assert.equal(sandboxSub.plan_code, plan.code);
    assert.deepEqual(step(run, 'sync_payment_provider').output, {
      provider: 'sandbox',
      action: 'created',
      customer: sandboxSub.customer,
      subscription: sandboxSub.id,
      status: 'active',
    });

    // Stats: exact against a recount, and the counters of this currency as expected.
    await statsExact(h);
    const eur = await counters(h.db, 'EUR');
    assert.equal(eur['subscriptions_created 2026-01-05'], 1);
    assert.equal(eur['subscriptions_active 2026-01-05'], 1);
    assert.equal(eur['arr 2026-01-05'], 4900 * 12);
    assert.equal(stored.status, 'active');
    assert.deepEqual(step(run, 'update_stats').output, { counted: true, customer_status: 'active' });

    // Email: received by the SMTP server, rendered from the subscription_created template.
    const [mail, ...more] = mailsTo(h, customer.email);
    assert.ok(mail, 'the customer got an email');
    assert.equal(more.length, 0);
    assert.equal(mail.mail.subject, `Welcome to ${plan.name}`);
    assert.match(mail.mail.text ?? '', /Ada Lovelace/);
    assert.ok(mail.mail.text?.includes(formatMoney(4900, 'EUR')), mail.mail.text);
    assert.match(mail.mail.text ?? '', /per month/);
    assert.match(String(mail.mail.html), /Welcome to/);
    assert.equal((step(run, 'send_customer_email').output as { to: string }).to, customer.email);

    // Slack and the in-app feed.
    const slack = slackMentioning(h, plan.name);
    assert.equal(slack.length, 1);
    assert.ok(slack[0]?.includes('New subscription'));
    assert.equal(
      await count(h.db, `notifications WHERE run_id = '${started.runId}'`),
      1,
      'one in-app notice for the run',
    );

    // Same idempotency key → the same record and run, nothing new.
    const again = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code },
      { idempotencyKey: `api:create-${kind}`, now: h.clock.now() },
    );
    assert.deepEqual([again.created, again.runId, again.record.id], [false, started.runId, started.record.id]);
    assert.equal(await count(h.db, `subscriptions WHERE customer_id = '${customer.id}'`), 1);
  });

  test('mails in the customer locale', async () => {
    const h = await setup();
    const plan = await seedPlan(h.db, { amount: 900, currency: 'CHF' });
    const customer = await seedCustomer(h.db, { locale: 'de' });
    const started = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code },
      { now: h.clock.now() },
    );
    assertCompleted(await h.settle(started.runId));
    assert.equal(mailsTo(h, customer.email)[0]?.mail.subject, `Willkommen bei ${plan.name}`);
  });

  test('bad input is refused with the field named and writes nothing', async () => {
    const h = await setup();
    const plan = await seedPlan(h.db, { currency: 'EUR' });
    const customer = await seedCustomer(h.db);
    const before = [await count(h.db, 'subscriptions'), await count(h.db, 'workflow_runs')];
    const cases: [unknown, string][] = [
      [{ customer_id: customer.id, plan_code: 'no-such-plan' }, 'plan_code'],
      [{ customer_id: 'cus_missing', plan_code: plan.code }, 'customer_id'],
      [{ customer_id: 'nope', plan_code: plan.code }, 'customer_id'],
      [{ customer_id: customer.id, plan_code: plan.code, trial_days: -1 }, 'trial_days'],
      [{ customer_id: customer.id, plan_code: plan.code, payment_method: 42 }, 'payment_method'],
    ];
    for (const [raw, field] of cases) {
      await assert.rejects(
        startSubscription(h.db, h.registry, raw as Parameters<typeof startSubscription>[2], {
          idempotencyKey: `api:bad-${field}-${kind}`,
          now: h.clock.now(),
        }),
        (e: unknown) => e instanceof InvalidInputError && e.errors.some((f) => f.field === field),
      );
    }
    assert.deepEqual([await count(h.db, 'subscriptions'), await count(h.db, 'workflow_runs')], before);
  });

  test('a subscription that already exists at the provider is linked, not created again', async () => {
    const h = await setup();
    const plan = await seedPlan(h.db, { amount: 1500, currency: 'EUR' });
    const customer = await seedCustomer(h.db, { provider_customer_id: `cus_stripe_${kind}` });
    const providerSubs = await count(h.db, 'provider_sandbox_subscriptions');
    const raw = { customer_id: customer.id, plan_code: plan.code, provider_subscription_id: `sub_stripe_${kind}` };
    const started = await startSubscription(h.db, h.registry, raw as Parameters<typeof startSubscription>[2], {
      idempotencyKey: `stripe:evt_1_${kind}`,
      now: h.clock.now(),
    });
    const run = await h.settle(started.runId);
    assertCompleted(run);
    assert.equal(started.record.provider_subscription_id, `sub_stripe_${kind}`);
    assert.deepEqual(step(run, 'sync_payment_provider').output, {
      provider: 'sandbox',
      action: 'linked',
      customer: `cus_stripe_${kind}`,
      subscription: `sub_stripe_${kind}`,
    });
    assert.equal(await count(h.db, 'provider_sandbox_subscriptions'), providerSubs);
    // The same provider subscription under another event id: the same record and run.
    const again = await startSubscription(h.db, h.registry, raw as Parameters<typeof startSubscription>[2], {
      idempotencyKey: `stripe:evt_2_${kind}`,
      now: h.clock.now(),
    });
    assert.deepEqual([again.created, again.runId, again.record.id], [false, started.runId, started.record.id]);
    await statsExact(h);
  });

  test('SMTP down: the email step retries, the run fails there; after a restart it completes without repeating a step', async () => {
    const h = await setup();
    const plan = await seedPlan(h.db, { amount: 2500, currency: 'GBP' });
    const customer = await seedCustomer(h.db);
    await h.smtp.stop();
    let restarted = false;
    try {
      const started = await startSubscription(
        h.db,
        h.registry,
        { customer_id: customer.id, plan_code: plan.code },
        { idempotencyKey: `api:smtp-${kind}`, now: h.clock.now() },
      );
      const failed = await driveRetries(h, started.runId);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failed_step, 'send_customer_email');
      assert.equal(step(failed, 'send_customer_email').attempts.length, 5, 'retried up to its policy');
      assert.equal(step(failed, 'send_internal_notice').status, 'pending');
      assert.equal(mailsTo(h, customer.email).length, 0);
      await statsExact(h);
      const statsBefore = await counters(h.db, 'GBP');
      assert.equal(statsBefore['subscriptions_created 2026-01-05'], 1);

      await h.smtp.restart();
      restarted = true;
      await restartRun(h.db, { runId: started.runId, actor: 'test', reason: 'smtp back', now: h.clock.now() });
      const run = await h.settle(started.runId);
      assertCompleted(run);
      assert.deepEqual(
        [attempts(run).create_subscription_record, attempts(run).sync_payment_provider, attempts(run).update_stats],
        [1, 1, 1],
        'no step before the email ran again',
      );
      assert.equal(mailsTo(h, customer.email).length, 1);
      assert.equal(
        await count(h.db, `provider_sandbox_subscriptions WHERE subscription_id = '${started.record.id}'`),
        1,
      );
      assert.deepEqual(await counters(h.db, 'GBP'), statsBefore, 'stats unchanged by the restart');
      await statsExact(h);
    } finally {
      if (!restarted) await h.smtp.restart();
    }
  });

  test('Stripe: customer and subscription created with keys derived from the step key', async () => {
    const h = await setup('stripe');
    const plan = await seedPlan(h.db, { amount: 1200, currency: 'USD' });
    const customer = await seedCustomer(h.db);
    const started = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_visa' },
      { now: h.clock.now() },
    );
    const run = await h.settle(started.runId);
    assertCompleted(run);
    const key = `${started.runId}:sync_payment_provider`;
    const customers = standIn.handled('POST', '/v1/customers').filter((r) => r.idempotencyKey === `${key}:customer`);
    const subs = standIn.handled('POST', '/v1/subscriptions').filter((r) => r.idempotencyKey === `${key}:subscription`);
    assert.equal(customers.length, 1);
    assert.equal(subs.length, 1);
    const subscription = await getSubscription(h.db, started.record.id);
    const atStripe = [...standIn.billing.subscriptions.values()].find(
      (s) => s.metadata.billflow_subscription_id === subscription.id,
    );
    assert.ok(atStripe);
    assert.equal(subscription.provider_subscription_id, atStripe.id);
    assert.equal((await getCustomer(h.db, customer.id)).provider_customer_id, atStripe.customer);
    assert.equal(mailsTo(h, customer.email).length, 1);
    await statsExact(h);
  });

  test('Stripe 500: the sync step is retried with the same key and creates one subscription', async () => {
    const h = await setup('stripe');
    const plan = await seedPlan(h.db, { amount: 1300, currency: 'USD' });
    const customer = await seedCustomer(h.db);
    standIn.failNext(1, { kind: 'status', status: 500 }, { method: 'POST', path: '/v1/subscriptions' });
    const started = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_visa' },
      { now: h.clock.now() },
    );
    const run = await driveRetries(h, started.runId);
    assertCompleted(run);
    assert.equal(step(run, 'sync_payment_provider').attempts.length, 2);
    const key = `${started.runId}:sync_payment_provider:subscription`;
    const posts = standIn.requests.filter((r) => r.path === '/v1/subscriptions' && r.idempotencyKey === key);
    assert.deepEqual(
      posts.map((r) => r.status),
      [500, 200],
    );
    const atStripe = [...standIn.billing.subscriptions.values()].filter(
      (s) => s.metadata.billflow_subscription_id === started.record.id,
    );
    assert.equal(atStripe.length, 1);
    await statsExact(h);
  });

  test('Stripe 4xx: the run fails at the sync step at once, before any stats or email', async () => {
    const h = await setup('stripe');
    const plan = await seedPlan(h.db, { amount: 1400, currency: 'USD' });
    const customer = await seedCustomer(h.db);
    standIn.failNext(1, { kind: 'status', status: 400 }, { method: 'POST', path: '/v1/subscriptions' });
    const started = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_visa' },
      { now: h.clock.now() },
    );
    const run = await h.settle(started.runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.failed_step, 'sync_payment_provider');
    assert.equal(step(run, 'sync_payment_provider').attempts.length, 1, 'no retry');
    assert.equal(step(run, 'update_stats').status, 'pending');
    assert.equal(mailsTo(h, customer.email).length, 0);
    assert.equal((await getRun(h.db, started.runId)).status, 'failed');
    assert.equal((await compareStats(h.db)).uncounted.subscription_created, 1);
  });
});
