import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWorker, getRun } from '../../src/engine/index.ts';
import type { RunDetail } from '../../src/engine/index.ts';
import {
  cancelSubscription,
  createSubscription,
  getPayment,
  getSubscription,
  setCustomerPaymentMethod,
} from '../../src/billing/records/index.ts';
import type { Customer, Subscription } from '../../src/billing/records/index.ts';
import { compareStats, countSubscriptionCancelled, countSubscriptionCreated } from '../../src/billing/stats/index.ts';
import { startPayment } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer, seedPlan } from './helpers.ts';
import {
  assertCompleted,
  counters,
  mailsTo,
  rows,
  slackMentioning,
  step,
  switchableProvider,
} from './workflow-support.ts';
import type { SwitchableProvider } from './workflow-support.ts';

// payment_failure end to end: durable dunning on the default schedule (1, 3, 5, 7 days), driven
// by advancing the clock; recovery, hard declines, exhaustion (subscriptions cancelled through
// their own runs), no payment method, a worker restart mid-wait, and the Stripe stand-in.

const DAY = 86_400_000;
const standIn = await startStripeStandIn();

async function statsExact(h: BillingHarness) {
  const comparison = await compareStats(h.db);
  assert.deepEqual(comparison.differences, []);
}

/** A live, counted subscription (as its subscription_creation run would leave it). */
async function subscribe(h: BillingHarness, customer: Customer, currency = 'USD'): Promise<Subscription> {
  const plan = await seedPlan(h.db, { amount: 2000, currency });
  const subscription = await createSubscription(
    h.db,
    { customer_id: customer.id, plan_code: plan.code },
    { at: h.clock.now() },
  );
  await countSubscriptionCreated(h.db, subscription.id);
  return subscription;
}

interface DunningState {
  attempt: number;
  due_at: string;
  attempts: { attempt: number; status: string; failure_code: string | null; decline: string | null }[];
}

/** Settles when retry_payment waits for attempt `n`, or the run is no longer in progress. */
function waitingFor(h: BillingHarness, runId: string, n: number): Promise<RunDetail> {
  return h.settle(runId, (r) => {
    if (r.status !== 'in_progress') return true;
    const state = r.steps.find((s) => s.name === 'retry_payment')?.state as DunningState | null | undefined;
    return r.activity === 'waiting' && state?.attempt === n;
  });
}

function dunningState(run: RunDetail): DunningState {
  return step(run, 'retry_payment').state as DunningState;
}

async function sandboxCharges(h: BillingHarness, prefix: string) {
  return rows<{ idempotency_key: string; status: string; payment_method: string }>(
    h.db,
    `SELECT idempotency_key, status, payment_method FROM provider_sandbox_charges WHERE idempotency_key LIKE $1 ORDER BY created_at, idempotency_key`,
    [`${prefix}%`],
  );
}

eachDatabase((kind) => {
  let switchable: SwitchableProvider | undefined;
  const harness = billingHarness(kind, {
    provider: (db, now) => {
      switchable = switchableProvider(standIn, db, now);
      return switchable.provider;
    },
  });
  const setup = async (provider: 'sandbox' | 'stripe' = 'sandbox') => {
    const h = await harness;
    switchable?.use(provider);
    standIn.clearFaults();
    return h;
  };

  test('soft decline: retries on schedule, then recovers when the card works again; payment_success starts once', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db, { name: 'Alan Turing' });
    const subscription = await subscribe(h, customer);
    const failedAt = h.clock.now();
    const day = failedAt.toISOString().slice(0, 10);
    const before = await counters(h.db, 'USD');
    const started = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        subscription_id: subscription.id,
        amount: 2000,
        currency: 'USD',
        status: 'failed',
        failure_code: 'insufficient_funds',
        payment_method: 'pm_card_insufficient_funds',
      },
      { idempotencyKey: `api:fail-${kind}`, now: failedAt },
    );
    assert.equal(started.record.status, 'failed');
    assert.equal(started.record.failure_code, 'insufficient_funds');

    let run = await waitingFor(h, started.runId, 1);
    assert.equal(run.current_step, 'retry_payment');
    const firstRetry = new Date(failedAt.getTime() + DAY).toISOString();
    assert.deepEqual(step(run, 'record_failure').output, {
      payment_id: started.record.id,
      customer_id: customer.id,
      amount: 2000,
      currency: 'USD',
      failure_code: 'insufficient_funds',
      decline: 'soft',
      failed_at: failedAt.toISOString(),
      counted: true,
      next_retry_at: firstRetry,
    });
    assert.equal(new Date(run.activity_until as Date).toISOString(), firstRetry);
    // The failure is counted once, by record_failure.
    const afterFailure = await counters(h.db, 'USD');
    assert.equal((afterFailure[`payment_failures ${day}`] ?? 0) - (before[`payment_failures ${day}`] ?? 0), 1);
    await statsExact(h);

    const [mail, ...more] = mailsTo(h, customer.email);
    assert.equal(more.length, 0);
    assert.ok(mail);
    assert.equal(mail.mail.subject, 'Your payment of $20.00 did not go through');
    assert.match(mail.mail.text ?? '', /Your card has insufficient funds\.|insufficient funds/);
    assert.match(mail.mail.text ?? '', /We will try again on January 6, 2026/);
    assert.ok(slackMentioning(h, 'Payment failed').some((t) => t.includes('Alan Turing')));

    // Nothing is charged before its day.
    const key = `${started.runId}:retry_payment`;
    assert.equal((await sandboxCharges(h, key)).length, 0);
    h.clock.advance(DAY);
    run = await waitingFor(h, started.runId, 2);
    assert.deepEqual(
      dunningState(run).attempts.map((a) => [a.attempt, a.status, a.failure_code, a.decline]),
      [[1, 'failed', 'insufficient_funds', 'soft']],
    );
    assert.equal(dunningState(run).due_at, new Date(failedAt.getTime() + 3 * DAY).toISOString());
    assert.deepEqual(
      (await sandboxCharges(h, key)).map((c) => [c.idempotency_key, c.status]),
      [[`${key}:attempt-1`, 'failed']],
    );

    // Day 2: still nothing. Day 3 with a working card: recovered.
    h.clock.advance(DAY);
    await setCustomerPaymentMethod(h.db, customer.id, 'pm_card_ok'); // the customer updates their card
    h.clock.advance(DAY);
    run = await h.settle(started.runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.outcome, 'recovered');
    assert.equal(step(run, 'cancel_subscriptions').status, 'skipped');
    const output = step(run, 'retry_payment').output as {
      outcome: string;
      recovered_payment_id: string;
      payment_success_run_id: string;
      attempts: { attempt: number; status: string }[];
    };
    assert.equal(output.outcome, 'recovered');
    assert.deepEqual(
      output.attempts.map((a) => [a.attempt, a.status]),
      [
        [1, 'failed'],
        [2, 'succeeded'],
      ],
    );
    assert.deepEqual(
      (await sandboxCharges(h, key)).map((c) => [c.idempotency_key, c.status, c.payment_method]),
      [
        [`${key}:attempt-1`, 'failed', 'pm_card_insufficient_funds'],
        [`${key}:attempt-2`, 'succeeded', 'pm_card_ok'],
      ],
    );

    const recovered = await getPayment(h.db, output.recovered_payment_id);
    assert.equal(recovered.status, 'succeeded');
    assert.equal(recovered.retry_of, started.record.id);
    assert.equal(recovered.subscription_id, subscription.id);
    const success = await h.settle(output.payment_success_run_id);
    assertCompleted(success);
    assert.equal(success.type, 'payment_success');
    assert.equal(success.subject_ref, recovered.id);
    assert.equal(await count(h.db, `workflow_runs WHERE type = 'payment_success' AND owner_ref = '${customer.id}'`), 1);
    const receipt = mailsTo(h, customer.email).find((m) => m.mail.subject?.startsWith('Receipt'));
    assert.ok(receipt?.mail.attachments.some((a) => a.contentType === 'application/pdf'));
    assert.equal((await getSubscription(h.db, subscription.id)).status, 'active');
    const recoveredDay = h.clock.now().toISOString().slice(0, 10);
    const end = await counters(h.db, 'USD');
    assert.equal((end[`revenue ${recoveredDay}`] ?? 0) - (before[`revenue ${recoveredDay}`] ?? 0), 2000);
    await statsExact(h);
  });

  test('hard decline: an initial one never retries, one on retry stops at once; subscriptions are cancelled', async () => {
    const h = await setup();
    // Initial decline is hard: no charge at all, straight to cancel_subscriptions.
    const first = await seedCustomer(h.db);
    const firstSub = await subscribe(h, first);
    const hard = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: first.id,
        amount: 2000,
        currency: 'USD',
        status: 'failed',
        failure_code: 'stolen_card',
        payment_method: 'pm_card_stolen',
      },
      { now: h.clock.now() },
    );
    let run = await h.settle(hard.runId);
    assertCompleted(run);
    assert.equal((step(run, 'record_failure').output as { next_retry_at: unknown }).next_retry_at, null);
    assert.equal((step(run, 'retry_payment').output as { outcome: string }).outcome, 'hard_decline');
    assert.equal((await sandboxCharges(h, `${hard.runId}:`)).length, 0);
    const cancelled = step(run, 'cancel_subscriptions').output as {
      cancelled: { subscription_id: string; run_id: string; started: boolean }[];
    };
    assert.deepEqual(
      cancelled.cancelled.map((c) => [c.subscription_id, c.started]),
      [[firstSub.id, true]],
    );
    const cancellation = await h.settle(cancelled.cancelled[0]?.run_id as string);
    assertCompleted(cancellation);
    assert.equal(cancellation.type, 'subscription_cancellation');
    assert.equal((await getSubscription(h.db, firstSub.id)).status, 'cancelled');
    assert.doesNotMatch(mailsTo(h, first.email)[0]?.mail.text ?? '', /try again/);

    // A soft failure whose retry meets a hard decline: one attempt, then no more waiting.
    const second = await seedCustomer(h.db);
    await subscribe(h, second);
    const soft = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: second.id,
        amount: 2000,
        currency: 'USD',
        status: 'failed',
        failure_code: 'insufficient_funds',
        payment_method: 'pm_card_fraudulent',
      },
      { now: h.clock.now() },
    );
    await waitingFor(h, soft.runId, 1);
    h.clock.advance(DAY);
    run = await h.settle(soft.runId);
    assertCompleted(run);
    const output = step(run, 'retry_payment').output as { outcome: string; attempts: { decline: string }[] };
    assert.equal(output.outcome, 'hard_decline');
    assert.deepEqual(
      output.attempts.map((a) => a.decline),
      ['hard'],
    );
    assert.equal((await sandboxCharges(h, `${soft.runId}:`)).length, 1);
    const secondCancelled = step(run, 'cancel_subscriptions').output as { cancelled: { run_id: string }[] };
    assert.equal(secondCancelled.cancelled.length, 1);
    assertCompleted(await h.settle(secondCancelled.cancelled[0]?.run_id as string));
    await statsExact(h);
  });

  test('exhausted: four declined retries, then each live subscription is cancelled by its own run, once', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db);
    const live = await subscribe(h, customer);
    const ending = await subscribe(h, customer);
    await cancelSubscription(h.db, ending.id, { mode: 'at_period_end' }, { at: h.clock.now() });
    await countSubscriptionCancelled(h.db, ending.id);
    const failedAt = h.clock.now();
    const started = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        amount: 4000,
        currency: 'USD',
        status: 'failed',
        failure_code: 'insufficient_funds',
        payment_method: 'pm_card_insufficient_funds',
      },
      { now: failedAt },
    );
    for (const [n, offset] of [
      [1, 1],
      [2, 3],
      [3, 5],
      [4, 7],
    ] as const) {
      const run = await waitingFor(h, started.runId, n);
      assert.equal(new Date(run.activity_until as Date).getTime(), failedAt.getTime() + offset * DAY);
      h.clock.set(new Date(failedAt.getTime() + offset * DAY));
    }
    const run = await h.settle(started.runId);
    assertCompleted(run);
    const dunning = step(run, 'retry_payment').output as { outcome: string; attempts: { attempt: number }[] };
    assert.equal(dunning.outcome, 'exhausted');
    assert.deepEqual(
      dunning.attempts.map((a) => a.attempt),
      [1, 2, 3, 4],
    );
    assert.equal((await sandboxCharges(h, `${started.runId}:`)).length, 4);
    const output = step(run, 'cancel_subscriptions').output as {
      reason: string;
      cancelled: { subscription_id: string; run_id: string }[];
      already_ending: string[];
    };
    assert.equal(output.reason, `payment ${started.record.id} unpaid: exhausted`);
    assert.deepEqual(output.already_ending, [ending.id]);
    assert.deepEqual(
      output.cancelled.map((c) => c.subscription_id),
      [live.id],
    );
    const cancellation = await h.settle(output.cancelled[0]?.run_id as string);
    assertCompleted(cancellation);
    assert.equal(cancellation.idempotency_key, `${live.id}:unpaid-cancellation`);
    const cancelledSub = await getSubscription(h.db, live.id);
    assert.equal(cancelledSub.status, 'cancelled');
    assert.equal(cancelledSub.cancelled_at?.toISOString(), h.clock.now().toISOString());
    assert.equal((await getSubscription(h.db, ending.id)).status, 'cancel_scheduled');
    assert.equal(
      await count(h.db, `workflow_runs WHERE type = 'subscription_cancellation' AND owner_ref = '${customer.id}'`),
      1,
    );
    await statsExact(h);
  });

  test('no payment method: nothing to retry, the run says so and finishes; subscriptions stay', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db);
    const subscription = await subscribe(h, customer);
    const started = await startPayment(
      h.db,
      h.registry,
      { customer_id: customer.id, amount: 2000, currency: 'USD', status: 'failed', failure_code: 'insufficient_funds' },
      { now: h.clock.now() },
    );
    const run = await h.settle(started.runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.outcome, 'not_retryable');
    assert.deepEqual(step(run, 'retry_payment').output, {
      outcome: 'not_retryable',
      attempts: [],
      reason: 'no payment method to charge again: the payment was processed elsewhere',
    });
    assert.equal(step(run, 'cancel_subscriptions').status, 'skipped');
    assert.equal((await getSubscription(h.db, subscription.id)).status, 'active');
    assert.doesNotMatch(mailsTo(h, customer.email)[0]?.mail.text ?? '', /try again/);
    await statsExact(h);
  });

  test('Stripe stand-in: each attempt is a PaymentIntent under its own key; recovery after a new card', async () => {
    const h = await setup('stripe');
    const customer = await seedCustomer(h.db);
    const failedAt = h.clock.now();
    const started = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        amount: 3000,
        currency: 'USD',
        status: 'failed',
        failure_code: 'insufficient_funds',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      },
      { now: failedAt },
    );
    await waitingFor(h, started.runId, 1);
    h.clock.advance(DAY);
    await waitingFor(h, started.runId, 2);
    await setCustomerPaymentMethod(h.db, customer.id, 'pm_card_visa'); // the customer updates their card
    h.clock.set(new Date(failedAt.getTime() + 3 * DAY));
    const run = await h.settle(started.runId);
    assert.equal(run.outcome, 'recovered');
    const key = `${started.runId}:retry_payment`;
    const intents = standIn.handled('POST', '/v1/payment_intents').filter((r) => r.idempotencyKey?.startsWith(key));
    assert.deepEqual(
      intents.map((r) => [r.idempotencyKey, r.status, r.params.payment_method]),
      [
        [`${key}:attempt-1`, 402, 'pm_card_chargeDeclinedInsufficientFunds'],
        [`${key}:attempt-2`, 200, 'pm_card_visa'],
      ],
    );
    const output = step(run, 'retry_payment').output as {
      payment_success_run_id: string;
      recovered_payment_id: string;
    };
    assertCompleted(await h.settle(output.payment_success_run_id));
    const recovered = await getPayment(h.db, output.recovered_payment_id);
    assert.match(recovered.provider_reference ?? '', /^pi_/);
    await statsExact(h);
  });

  test('a worker restart mid-wait loses nothing and fires nothing twice', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db);
    const failedAt = h.clock.now();
    const started = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        amount: 2500,
        currency: 'USD',
        status: 'failed',
        failure_code: 'insufficient_funds',
        payment_method: 'pm_card_insufficient_funds',
      },
      { now: failedAt },
    );
    await waitingFor(h, started.runId, 1);
    const mailsBefore = mailsTo(h, customer.email).length;
    await h.worker.stop({ graceMs: 1000 });
    // While no worker runs, the first retry falls due.
    h.clock.set(new Date(failedAt.getTime() + DAY));
    const stillWaiting = await getRun(h.db, started.runId);
    assert.equal(stillWaiting.current_step, 'retry_payment');
    assert.equal((await sandboxCharges(h, `${started.runId}:`)).length, 0);

    const worker = createWorker(h.db, { registry: h.registry, pollIntervalMs: 50, clock: h.clock.now });
    after(() => worker.stop({ graceMs: 1000 }));
    await worker.start();
    let run = await waitingFor(h, started.runId, 2);
    assert.equal(dunningState(run).attempts.length, 1);
    h.clock.set(new Date(failedAt.getTime() + 3 * DAY));
    await setCustomerPaymentMethod(h.db, customer.id, 'pm_card_ok'); // the customer updates their card
    run = await h.settle(started.runId);
    assert.equal(run.outcome, 'recovered');
    const charges = await sandboxCharges(h, `${started.runId}:`);
    assert.deepEqual(
      charges.map((c) => c.idempotency_key.split(':').pop()),
      ['attempt-1', 'attempt-2'],
    );
    // The earlier steps ran once: one failure mail, one record, one count.
    assert.equal(step(run, 'record_failure').attempts.length, 1);
    assert.equal(step(run, 'send_customer_email').attempts.length, 1);
    const output = step(run, 'retry_payment').output as { payment_success_run_id: string };
    await h.settle(output.payment_success_run_id);
    assert.equal(mailsTo(h, customer.email).length, mailsBefore + 1);
    assert.equal(await count(h.db, `workflow_runs WHERE type = 'payment_success' AND owner_ref = '${customer.id}'`), 1);
    await statsExact(h);
  });
});
