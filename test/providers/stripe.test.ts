import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { PermanentError } from '../../src/errors.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import { createEventSource, createProvider, readProviderConfig } from '../../src/providers/index.ts';
import type { ChargeInput, PaymentProvider } from '../../src/providers/index.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';

// One stand-in for the file; each test works with a customer of its own.
const standIn = await startStripeStandIn();
const provider = createStripeProvider({ secretKey: standIn.secretKey, apiBase: standIn.url });
let tests = 0;

async function setup(p: PaymentProvider = provider) {
  const t = `t${++tests}`;
  const customer = await p.ensureCustomer({
    idempotencyKey: `run_${t}:sync_payment_provider:customer`,
    customerId: `cus_${t}`,
    email: `${t}@example.com`,
    name: 'Ada Lovelace',
  });
  const key = (name: string) => `run_${t}:${name}`;
  const charge = (paymentMethod: string, name = 'retry_payment:1', amount = 4900): ChargeInput => ({
    idempotencyKey: key(name),
    amount,
    currency: 'EUR',
    customer: customer.provider_reference,
    paymentMethod,
    metadata: { payment_id: `pay_${t}` },
  });
  return { t, key, customer, charge };
}

const requestsWithKey = (key: string) => standIn.requests.filter((r) => r.idempotencyKey === key);

test('a charge is a confirmed PaymentIntent created with the idempotency key', async () => {
  const { customer, charge, key } = await setup();
  const result = await provider.charge({ ...charge('pm_card_visa'), description: 'Pro, January' });
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    { amount: result.amount, currency: result.currency, failure_code: result.failure_code, decline: result.decline },
    { amount: 4900, currency: 'EUR', failure_code: null, decline: null },
  );
  const [created, ...more] = requestsWithKey(key('retry_payment:1')).filter((r) => r.method === 'POST');
  assert.equal(more.length, 0);
  assert.equal(created?.path, '/v1/payment_intents');
  assert.deepEqual(created?.params, {
    amount: '4900',
    currency: 'eur',
    customer: customer.provider_reference,
    payment_method: 'pm_card_visa',
    confirm: 'true',
    off_session: 'true',
    automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' },
    description: 'Pro, January',
    metadata: { payment_id: 'pay_t1', billflow_key: key('retry_payment:1') },
  });
  const pi = standIn.payments.intents.get(result.provider_reference as string);
  assert.equal(pi?.status, 'succeeded');
});

test('card declines are failed results, classified soft or hard', async () => {
  const { charge } = await setup();
  const cases = [
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds', 'soft'],
    ['pm_card_chargeDeclined', 'generic_decline', 'soft'],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'soft'],
    ['pm_card_chargeDeclinedStolenCard', 'stolen_card', 'hard'],
    ['pm_card_chargeDeclinedLostCard', 'lost_card', 'hard'],
    ['pm_card_chargeDeclinedFraudulent', 'fraudulent', 'hard'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'hard'],
    ['pm_card_authenticationRequired', 'authentication_required', 'hard'],
  ] as const;
  for (const [method, code, decline] of cases) {
    const input = charge(method, `retry_payment:${method}`);
    const result = await provider.charge(input);
    assert.deepEqual([result.status, result.failure_code, result.decline], ['failed', code, decline], method);
    assert.match(result.provider_reference ?? '', /^pi_/, 'the declined PaymentIntent is named');
    // Found again later, the PaymentIntent's last error tells the same story.
    assert.deepEqual(
      await provider.findCharge({ idempotencyKey: input.idempotencyKey, customer: input.customer }),
      result,
    );
  }
});

test('the same key twice: Stripe replays the first answer, nothing is charged again', async () => {
  const { charge } = await setup();
  const input = { ...charge('pm_card_visa'), firstAttempt: true };
  const first = await provider.charge(input);
  const again = await provider.charge(input);
  assert.deepEqual(again, first);
  const posts = requestsWithKey(input.idempotencyKey);
  assert.deepEqual(
    posts.map((r) => r.replayed),
    [false, true],
  );
  const declined = { ...charge('pm_card_chargeDeclinedStolenCard', 'retry_payment:2'), firstAttempt: true };
  assert.deepEqual(await provider.charge(declined), await provider.charge(declined), 'a decline is replayed too');
});

test('a key reused with other parameters is refused as a permanent error', async () => {
  const { charge } = await setup();
  await provider.charge({ ...charge('pm_card_visa'), firstAttempt: true });
  await assert.rejects(
    provider.charge({ ...charge('pm_card_visa', 'retry_payment:1', 5000), firstAttempt: true }),
    (e: unknown) => e instanceof PermanentError && /idempotency_error/.test(e.message),
  );
});

test('refunds carry their key, are found on a re-run and replayed on a repeat', async () => {
  const { charge, key } = await setup();
  const paid = await provider.charge(charge('pm_card_visa', 'record_payment', 1000));
  const ref = paid.provider_reference as string;
  const part = await provider.refund({
    idempotencyKey: key('execute_provider_refund'),
    chargeReference: ref,
    amount: 400,
    reason: 'requested_by_customer',
  });
  assert.deepEqual(
    [part.status, part.amount, part.currency, part.charge_reference, part.failure_code],
    ['succeeded', 400, 'EUR', ref, null],
  );
  const [post] = requestsWithKey(key('execute_provider_refund')).filter((r) => r.method === 'POST');
  assert.deepEqual(post?.params, {
    payment_intent: ref,
    amount: '400',
    reason: 'requested_by_customer',
    metadata: { billflow_key: key('execute_provider_refund') },
  });
  // A re-run looks it up first (a GET), and makes no second refund.
  const rerun = await provider.refund({
    idempotencyKey: key('execute_provider_refund'),
    chargeReference: ref,
    amount: 400,
  });
  assert.deepEqual(rerun, part);
  assert.equal(
    standIn.handled('POST', '/v1/refunds').filter((r) => r.idempotencyKey === key('execute_provider_refund')).length,
    1,
  );
  assert.deepEqual(
    await provider.findRefund({ idempotencyKey: key('execute_provider_refund'), chargeReference: ref }),
    part,
  );
  assert.equal(await provider.findRefund({ idempotencyKey: key('nothing'), chargeReference: ref }), null);
  const rest = await provider.refund({ idempotencyKey: key('refund_rest'), chargeReference: ref });
  assert.equal(rest.amount, 600);
  await assert.rejects(provider.refund({ idempotencyKey: key('too_much'), chargeReference: ref }), PermanentError);
});

test('customers: created once with our id, found again, an unclaimed one adopted by email', async () => {
  const { customer, t } = await setup();
  const created = standIn.billing.customers.get(customer.provider_reference);
  assert.deepEqual(created?.metadata, { billflow_customer_id: `cus_${t}` });
  const [post] = standIn.requests.filter((r) => r.method === 'POST' && r.params.email === `${t}@example.com`);
  assert.equal(post?.idempotencyKey, `run_${t}:sync_payment_provider:customer`);
  const again = await provider.ensureCustomer({
    idempotencyKey: 'run_other:sync',
    customerId: `cus_${t}`,
    email: `${t}@example.com`,
  });
  assert.deepEqual(again, customer);
  assert.equal([...standIn.billing.customers.values()].filter((c) => c.email === `${t}@example.com`).length, 1);

  // Made in the dashboard, without our id: the only customer with the email is adopted; of two,
  // neither is (guessing could bill the wrong one) and a new customer is made.
  const dashboard = new Stripe(standIn.secretKey, {
    host: '127.0.0.1',
    port: new URL(standIn.url).port,
    protocol: 'http',
  });
  const made = await dashboard.customers.create({ email: `${t}.dash@example.com` });
  const adopted = await provider.ensureCustomer({
    idempotencyKey: `${t}:a`,
    customerId: `cus_${t}_a`,
    email: made.email ?? '',
  });
  assert.equal(adopted.provider_reference, made.id);
  await dashboard.customers.create({ email: `${t}.twins@example.com` });
  await dashboard.customers.create({ email: `${t}.twins@example.com` });
  const fresh = await provider.ensureCustomer({
    idempotencyKey: `${t}:b`,
    customerId: `cus_${t}_b`,
    email: `${t}.twins@example.com`,
  });
  assert.equal(standIn.billing.customers.get(fresh.provider_reference)?.metadata.billflow_customer_id, `cus_${t}_b`);
});

test('subscriptions: a price per plan terms, created with the key, found on a re-run', async () => {
  const { customer, key, t } = await setup();
  const plan = { code: `pro_${t}`, name: 'Pro', amount: 4900, currency: 'EUR', interval: 'month' as const };
  const input = {
    idempotencyKey: key('sync_payment_provider:subscription'),
    subscriptionId: `sub_${t}`,
    customer: customer.provider_reference,
    plan,
    paymentMethod: 'pm_card_visa',
  };
  const sub = await provider.createSubscription(input);
  assert.deepEqual([sub.status, sub.subscription_id, sub.cancel_at_period_end], ['active', `sub_${t}`, false]);
  assert.ok(sub.current_period_end && new Date(sub.current_period_end) > new Date());
  const [post] = standIn.handled('POST', '/v1/subscriptions').filter((r) => r.idempotencyKey === input.idempotencyKey);
  assert.equal(post?.params.default_payment_method, 'pm_card_visa');
  assert.deepEqual(post?.params.metadata, { billflow_subscription_id: `sub_${t}`, billflow_key: input.idempotencyKey });

  assert.deepEqual(await provider.createSubscription(input), sub, 'a re-run finds it');
  const query = { subscriptionId: `sub_${t}`, customer: customer.provider_reference };
  assert.deepEqual(await provider.findSubscription(query), sub, 'found by our id');
  assert.equal(await provider.findSubscription({ ...query, subscriptionId: `sub_${t}_never` }), null);
  const second = await provider.createSubscription({
    ...input,
    idempotencyKey: key('other'),
    subscriptionId: `sub_${t}_2`,
  });
  assert.notEqual(second.provider_reference, sub.provider_reference);
  const prices = standIn
    .handled('POST', '/v1/prices')
    .filter((r) => r.params.lookup_key === `billflow:pro_${t}:4900:eur:month`);
  assert.equal(prices.length, 1, 'one price for the same terms');
  assert.equal(
    standIn.handled('POST', '/v1/subscriptions').filter((r) => r.idempotencyKey === input.idempotencyKey).length,
    1,
  );
});

test('cancellation at period end, on a date, now; a repeat changes nothing', async () => {
  const { customer, key, t } = await setup();
  const plan = { code: `basic_${t}`, name: 'Basic', amount: 900, currency: 'usd', interval: 'year' as const };
  const create = (n: number) =>
    provider.createSubscription({
      idempotencyKey: key(`create_${n}`),
      subscriptionId: `sub_${t}_${n}`,
      customer: customer.provider_reference,
      plan,
    });
  const [a, b, c] = [await create(1), await create(2), await create(3)] as const;

  const atEnd = await provider.cancelSubscription({
    idempotencyKey: key('cancel_1'),
    providerReference: a.provider_reference,
    when: 'period_end',
  });
  assert.deepEqual([atEnd.status, atEnd.cancel_at_period_end, atEnd.cancel_at], ['active', true, a.current_period_end]);

  const on = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000);
  const dated = await provider.cancelSubscription({
    idempotencyKey: key('cancel_2'),
    providerReference: b.provider_reference,
    when: on,
  });
  assert.deepEqual([dated.status, dated.cancel_at], ['active', on.toISOString()]);

  const now = await provider.cancelSubscription({
    idempotencyKey: key('cancel_3'),
    providerReference: c.provider_reference,
    when: 'now',
  });
  assert.equal(now.status, 'canceled');
  assert.ok(now.canceled_at);
  const [del] = standIn.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(c.provider_reference));
  assert.equal(del?.idempotencyKey, key('cancel_3'));
  const repeat = await provider.cancelSubscription({
    idempotencyKey: key('cancel_3'),
    providerReference: c.provider_reference,
    when: 'now',
  });
  assert.deepEqual(repeat, now);
  assert.equal(
    standIn.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(c.provider_reference)).length,
    1,
  );

  await assert.rejects(
    provider.cancelSubscription({ idempotencyKey: key('cancel_4'), providerReference: 'sub_missing', when: 'now' }),
    PermanentError,
  );
});

test('a subscription ended at Stripe between the look-up and the cancel is cancelled, not an error', async () => {
  const { customer, key, t } = await setup();
  const plan = { code: `race_${t}`, name: 'Race', amount: 700, currency: 'usd', interval: 'month' as const };
  const create = (n: number) =>
    provider.createSubscription({
      idempotencyKey: key(`create_${n}`),
      subscriptionId: `sub_${t}_${n}`,
      customer: customer.provider_reference,
      plan,
    });
  for (const [n, when] of [
    [1, 'now'],
    [2, 'period_end'],
  ] as const) {
    const sub = await create(n);
    const id = sub.provider_reference;
    // The customer cancels in the portal just as Billflow's cancel reaches Stripe (which refuses it).
    standIn.beforeNext({ path: `/v1/subscriptions/${id}`, method: when === 'now' ? 'DELETE' : 'POST' }, () => {
      Object.assign(standIn.billing.subscriptions.get(id) ?? {}, { status: 'canceled', canceled_at: 1, ended_at: 1 });
    });
    const result = await provider.cancelSubscription({
      idempotencyKey: key(`cancel_${n}`),
      providerReference: id,
      when,
    });
    assert.equal(result.status, 'canceled', when);
    const refused = standIn.requests.filter((r) => r.idempotencyKey === key(`cancel_${n}`));
    assert.deepEqual(
      refused.map((r) => r.status),
      [400],
      'Stripe refused the cancel of a cancelled subscription',
    );
  }
});

test('invalid requests and bad credentials are permanent errors', async () => {
  const { charge } = await setup();
  await assert.rejects(provider.charge({ ...charge('pm_card_visa'), customer: 'cus_missing' }), (e: unknown) => {
    return (
      e instanceof PermanentError &&
      /No such customer: 'cus_missing'/.test(e.message) &&
      /resource_missing/.test(e.message)
    );
  });
  await assert.rejects(provider.charge(charge('pm_card_unknown', 'x')), /No such PaymentMethod/);
  const wrongKey = createStripeProvider({ secretKey: 'sk_test_wrong', apiBase: standIn.url });
  await assert.rejects(
    wrongKey.charge(charge('pm_card_visa', 'y')),
    (e: unknown) => e instanceof PermanentError && /Invalid API Key/.test(e.message),
  );
});

test('the configured provider loads the SDK on its first call and behaves as the SDK-backed one', async () => {
  const env = {
    BILLFLOW_PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: standIn.secretKey,
    STRIPE_API_BASE: standIn.url,
  };
  const configured = createProvider(readProviderConfig(env), { db: undefined as never });
  assert.equal(configured.name, 'stripe');
  const { charge } = await setup(configured);
  const charged = await configured.charge(charge('pm_card_visa', 'lazy'));
  assert.equal(charged.status, 'succeeded');
  const { idempotencyKey, customer } = charge('pm_card_visa', 'lazy');
  assert.deepEqual(await configured.findCharge({ idempotencyKey, customer }), charged);
  const wrongKey = createProvider(readProviderConfig({ ...env, STRIPE_SECRET_KEY: 'sk_test_wrong' }), {
    db: undefined as never,
  });
  await assert.rejects(
    wrongKey.charge(charge('pm_card_visa', 'lazy-wrong')),
    (e: unknown) => e instanceof PermanentError && /Invalid API Key/.test(e.message),
  );
  const events = createEventSource(readProviderConfig(env));
  assert.ok(events);
  assert.equal(Array.isArray((await events.listEvents({ createdAfter: 0, limit: 1 })).data), true);
});
