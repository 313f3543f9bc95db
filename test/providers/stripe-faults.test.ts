import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { PermanentError, RetryableError } from '../../src/errors.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import type { ChargeInput } from '../../src/providers/index.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';

const standIn = await startStripeStandIn();
const provider = createStripeProvider({ secretKey: standIn.secretKey, apiBase: standIn.url });
let tests = 0;

async function setup() {
  const t = `t${++tests}`;
  const customer = await provider.ensureCustomer({
    idempotencyKey: `run_${t}:customer`,
    customerId: `cus_${t}`,
    email: `${t}@example.com`,
  });
  const input: ChargeInput = {
    idempotencyKey: `run_${t}:retry_payment:2`,
    amount: 2500,
    currency: 'usd',
    customer: customer.provider_reference,
    paymentMethod: 'pm_card_visa',
  };
  const posts = () => standIn.requests.filter((r) => r.method === 'POST' && r.idempotencyKey === input.idempotencyKey);
  const intents = () =>
    [...standIn.payments.intents.values()].filter((pi) => pi.metadata.billflow_key === input.idempotencyKey);
  return { customer, input, posts, intents };
}

const ONLY_CREATE = { method: 'POST', path: '/v1/payment_intents' } as const;

test('a 500 is retryable; the retry with the same key charges once', async () => {
  const { input, posts, intents } = await setup();
  standIn.failNext(1, { kind: 'status', status: 500 }, ONLY_CREATE);
  await assert.rejects(
    provider.charge(input),
    (e: unknown) => e instanceof RetryableError && /api_error/.test(e.message),
  );
  assert.equal(intents().length, 0);
  const result = await provider.charge(input);
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    posts().map((r) => [r.status, r.fault]),
    [
      [500, 'status'],
      [200, null],
    ],
  );
  assert.equal(intents().length, 1);
});

test('429 and 503 are retryable, on look-ups as on calls', async () => {
  const { input } = await setup();
  standIn.failNext(1, { kind: 'status', status: 429 });
  await assert.rejects(
    provider.charge(input),
    (e: unknown) => e instanceof RetryableError && /rate_limit/.test(e.message),
  );
  standIn.failNext(1, { kind: 'status', status: 503 }, ONLY_CREATE);
  await assert.rejects(provider.charge(input), RetryableError);
  assert.equal((await provider.charge(input)).status, 'succeeded');
});

test('a connection cut before the request ran: the SDK tries once more, then it is retryable', async () => {
  const { input, posts, intents } = await setup();
  standIn.failNext(2, { kind: 'drop', when: 'before' }, ONLY_CREATE);
  await assert.rejects(
    provider.charge(input),
    (e: unknown) => e instanceof RetryableError && e.cause instanceof Stripe.errors.StripeConnectionError,
  );
  assert.deepEqual(
    posts().map((r) => r.fault),
    ['drop', 'drop'],
    'both tries carried our key',
  );
  assert.equal(intents().length, 0);
  assert.equal((await provider.charge(input)).status, 'succeeded');
  assert.equal(intents().length, 1);
});

test('an answer lost after the charge: the SDK retry is replayed, not charged again', async () => {
  const { input, posts, intents } = await setup();
  standIn.failNext(1, { kind: 'drop', when: 'after' }, ONLY_CREATE);
  const result = await provider.charge(input);
  assert.equal(result.status, 'succeeded');
  assert.deepEqual(
    posts().map((r) => [r.fault, r.replayed]),
    [
      ['drop', false],
      [null, true],
    ],
  );
  assert.equal(intents().length, 1);
});

test('answers lost twice: the step fails retryably; its re-run finds the charge instead of calling again', async () => {
  const { input, posts, intents } = await setup();
  standIn.failNext(2, { kind: 'drop', when: 'after' }, ONLY_CREATE);
  await assert.rejects(provider.charge(input), RetryableError);
  assert.equal(intents().length, 1, 'the charge was made');
  const rerun = await provider.charge(input);
  assert.equal(rerun.status, 'succeeded');
  assert.equal(rerun.provider_reference, intents()[0]?.id);
  assert.equal(posts().length, 2, 'no third POST: the re-run looked it up');
});

test('a restart days later (keys forgotten) looks the charge up: one PaymentIntent', async () => {
  const { input, intents, posts } = await setup();
  const first = await provider.charge({ ...input, firstAttempt: true });
  standIn.forgetIdempotencyKeys();
  const restarted = createStripeProvider({ secretKey: standIn.secretKey, apiBase: standIn.url });
  assert.deepEqual(await restarted.charge(input), first);
  assert.equal(intents().length, 1);
  assert.equal(posts().length, 1);
  // What the look-up protects against: without it, the forgotten key would charge again.
  await restarted.charge({ ...input, firstAttempt: true });
  assert.equal(intents().length, 2);
});

test('a look-up without the customer uses search', async () => {
  const { input } = await setup();
  const paid = await provider.charge(input);
  assert.deepEqual(await provider.findCharge({ idempotencyKey: input.idempotencyKey }), paid);
  const search = standIn.requests.filter((r) => r.path === '/v1/payment_intents/search').at(-1);
  assert.equal(search?.params.query, `metadata['billflow_key']:'${input.idempotencyKey}'`);
  assert.equal(await provider.findCharge({ idempotencyKey: 'run_none:charge' }), null);
});

test('a PaymentIntent left unconfirmed by an earlier attempt is confirmed, not duplicated', async () => {
  const { input: base, intents } = await setup();
  const input = { ...base, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' };
  const sdk = new Stripe(standIn.secretKey, { host: '127.0.0.1', port: new URL(standIn.url).port, protocol: 'http' });
  await sdk.paymentIntents.create({
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    payment_method: input.paymentMethod,
    metadata: { billflow_key: input.idempotencyKey },
  });
  const result = await provider.charge(input);
  assert.deepEqual([result.status, result.failure_code, result.decline], ['failed', 'insufficient_funds', 'soft']);
  assert.equal(intents().length, 1);
  const confirm = standIn.requests.find((r) => r.path.endsWith('/confirm'));
  assert.equal(confirm?.idempotencyKey, `${input.idempotencyKey}:confirm`);
});

test('a payment still processing is retryable until its outcome is known', async () => {
  const { input, intents } = await setup();
  const paid = await provider.charge(input);
  const pi = intents()[0];
  assert.ok(pi);
  pi.status = 'processing';
  await assert.rejects(provider.charge(input), /still processing/);
  await assert.rejects(
    provider.findCharge({ idempotencyKey: input.idempotencyKey, customer: input.customer }),
    RetryableError,
  );
  pi.status = 'succeeded';
  assert.deepEqual(await provider.charge(input), paid);
});

test('other 4xx are permanent, at once', async () => {
  const { input } = await setup();
  standIn.failNext(1, { kind: 'status', status: 400 }, ONLY_CREATE);
  await assert.rejects(provider.charge(input), PermanentError);
  standIn.failNext(1, { kind: 'status', status: 403 }, ONLY_CREATE);
  await assert.rejects(provider.charge(input), PermanentError);
});
