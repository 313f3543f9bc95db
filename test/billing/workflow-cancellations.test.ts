import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun, restartRun, startWorkflow } from '../../src/engine/index.ts';
import { ConflictError, PermanentError } from '../../src/errors.ts';
import { formatMoney } from '../../src/notify/index.ts';
import { getCustomer, getPayment, getSubscription, listPaymentRefunds } from '../../src/billing/records/index.ts';
import type { Customer, Payment, Subscription } from '../../src/billing/records/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { requestCancellation, startSubscription } from '../../src/billing/workflows/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer, seedPlan } from './helpers.ts';
import {
  assertCompleted,
  attempts,
  counters,
  driveRetries,
  faultyProvider,
  mailsTo,
  rows,
  seedProviderPayment,
  slackMentioning,
  step,
} from './workflow-support.ts';
import type { FaultyProvider } from './workflow-support.ts';

// subscription_cancellation end to end through requestCancellation: each mode, each refund mode
// (the refund is a refund_creation run of its own, started once), conflicts and an SMTP outage.
const DAY = 86_400_000;
const AMOUNT = 3100;

interface Paid {
  customer: Customer;
  subscription: Subscription;
  payment: Payment;
  planName: string;
}

/** A live subscription made through its own run (so it exists in the sandbox) and its first payment. */
async function paidSubscription(h: BillingHarness, currency: string): Promise<Paid> {
  const plan = await seedPlan(h.db, { amount: AMOUNT, currency });
  const customer = await seedCustomer(h.db);
  const started = await startSubscription(
    h.db,
    h.registry,
    { customer_id: customer.id, plan_code: plan.code },
    { now: h.clock.now() },
  );
  assertCompleted(await h.settle(started.runId));
  const subscription = await getSubscription(h.db, started.record.id);
  const payment = await seedProviderPayment(h, customer, { amount: AMOUNT, currency, subscriptionId: subscription.id });
  return { customer, subscription, payment, planName: plan.name };
}

async function sandboxSubscription(h: BillingHarness, id: string) {
  const [row] = await rows<{ cancel_at_period_end: boolean; cancel_at: Date | null; canceled_at: Date | null }>(
    h.db,
    'SELECT cancel_at_period_end, cancel_at, canceled_at FROM provider_sandbox_subscriptions WHERE subscription_id = $1',
    [id],
  );
  assert.ok(row, `sandbox subscription for ${id}`);
  return row;
}

async function refundRuns(h: BillingHarness, cancellationRunId: string) {
  return rows<{ id: string; subject_ref: string }>(
    h.db,
    `SELECT id, subject_ref FROM workflow_runs WHERE type = 'refund_creation' AND idempotency_key = $1`,
    [`${cancellationRunId}:refund`],
  );
}

async function statsExact(h: BillingHarness) {
  assert.deepEqual((await compareStats(h.db)).differences, []);
}

eachDatabase((kind) => {
  let faulty: FaultyProvider | undefined;
  const harness = billingHarness(kind, {
    provider: (db, now) => (faulty = faultyProvider(createSandboxProvider({ db, now }))).provider,
  });

  test('immediately, prorated: cancelled now, the unused share refunded by its own run', async () => {
    const h = await harness;
    const { customer, subscription, payment, planName } = await paidSubscription(h, 'EUR');
    h.clock.advance(10 * DAY);
    const cancelled = await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: subscription.id, mode: 'immediately', refund: 'prorated', reason: 'too expensive' },
      { idempotencyKey: `api:cancel-now-${kind}`, now: h.clock.now() },
    );
    assert.equal(cancelled.record.status, 'cancelled');
    assert.equal(cancelled.record.cancelled_at?.getTime(), h.clock.now().getTime());
    const run = await h.settle(cancelled.runId);
    assertCompleted(run);
    assert.equal(run.subject_ref, subscription.id);

    // Prorated by unused time: (period end − now) / period length of the payment, rounded down.
    const length = subscription.current_period_end.getTime() - subscription.current_period_start.getTime();
    const unused = subscription.current_period_end.getTime() - h.clock.now().getTime();
    const expected = Math.floor((AMOUNT * unused) / length);
    assert.ok(expected > 0 && expected < AMOUNT);
    if (length === 31 * DAY) assert.equal(expected, 2100);
    const issued = step(run, 'issue_refund').output as { amount: number; refund_id: string; refund_run_id: string };
    assert.equal(issued.amount, expected);

    // The refund: one record, one run (keyed by the cancellation run), refunded at the sandbox.
    const runs = await refundRuns(h, cancelled.runId);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.id, issued.refund_run_id);
    assert.equal(runs[0]?.subject_ref, issued.refund_id);
    assertCompleted(await h.settle(issued.refund_run_id));
    const refunds = await listPaymentRefunds(h.db, payment.id);
    assert.deepEqual(
      refunds.map((r) => [r.id, r.amount, r.status]),
      [[issued.refund_id, expected, 'succeeded']],
    );
    assert.equal((await getPayment(h.db, payment.id)).refunded_amount, expected);
    const [sandboxRefund] = await rows<{ amount: number }>(
      h.db,
      'SELECT amount FROM provider_sandbox_refunds WHERE id = $1',
      [refunds[0]?.provider_reference],
    );
    assert.equal(Number(sandboxRefund?.amount), expected);

    // Provider, customer status, stats.
    const atSandbox = await sandboxSubscription(h, subscription.id);
    assert.equal(atSandbox.canceled_at?.getTime(), h.clock.now().getTime());
    assert.equal((await getCustomer(h.db, customer.id)).status, 'churned');
    assert.deepEqual(step(run, 'update_stats').output, { counted: true, customer_status: 'churned' });
    await statsExact(h);
    const eur = await counters(h.db, 'EUR');
    assert.equal(eur['subscriptions_cancelled 2026-01-15'], 1);
    assert.equal(eur['subscriptions_active 2026-01-15'], -1);
    assert.equal(eur['refunds 2026-01-15'], expected);

    // Emails: the cancellation (with the refund) and the refund's own; Slack for both.
    const mails = mailsTo(h, customer.email);
    const cancellation = mails.find((m) => m.mail.subject === `Your ${planName} subscription is cancelled`);
    assert.ok(cancellation, mails.map((m) => m.mail.subject).join(' | '));
    assert.ok(cancellation.mail.text?.includes(`We are refunding ${formatMoney(expected, 'EUR')}`));
    assert.ok(mails.some((m) => m.mail.subject === `Refund of ${formatMoney(expected, 'EUR')}`));
    assert.equal(slackMentioning(h, `Cancelled* — `).filter((t) => t.includes(planName)).length, 1);
  });

  test('at period end, no refund: scheduled, nothing refunded, the customer stays active until then', async () => {
    const h = await harness;
    const { customer, subscription, payment } = await paidSubscription(h, 'GBP');
    h.clock.advance(3 * DAY);
    const cancelled = await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: subscription.id, refund: 'none' },
      { now: h.clock.now() },
    );
    const run = await h.settle(cancelled.runId);
    assertCompleted(run);
    const after = await getSubscription(h.db, subscription.id);
    assert.equal(after.status, 'cancel_scheduled');
    assert.equal(after.cancel_at?.getTime(), subscription.current_period_end.getTime());
    assert.deepEqual(step(run, 'issue_refund').output, { refund: 'none', amount: 0, currency: 'GBP' });
    assert.equal((await refundRuns(h, cancelled.runId)).length, 0);
    assert.equal((await listPaymentRefunds(h.db, payment.id)).length, 0);
    const atSandbox = await sandboxSubscription(h, subscription.id);
    assert.equal(atSandbox.cancel_at_period_end, true);
    assert.equal(atSandbox.canceled_at, null);
    assert.equal((await getCustomer(h.db, customer.id)).status, 'active');
    const mail = mailsTo(h, customer.email).find((m) => m.mail.subject?.includes('is cancelled'));
    assert.ok(mail?.mail.text?.includes('and ends on'));
    assert.ok(!mail?.mail.text?.includes('refunding'));
    await statsExact(h);
  });

  test('at period end, prorated: nothing is unused, so no refund run', async () => {
    const h = await harness;
    const { subscription } = await paidSubscription(h, 'CHF');
    const cancelled = await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: subscription.id, mode: 'at_period_end', refund: 'prorated' },
      { now: h.clock.now() },
    );
    const run = await h.settle(cancelled.runId);
    assertCompleted(run);
    assert.equal((step(run, 'issue_refund').output as { amount: number }).amount, 0);
    assert.equal((await refundRuns(h, cancelled.runId)).length, 0);
    await statsExact(h);
  });

  test('on a date, full refund: scheduled for the date, the whole last payment refunded', async () => {
    const h = await harness;
    const { subscription, payment } = await paidSubscription(h, 'USD');
    const date = new Date(h.clock.now().getTime() + 5 * DAY);
    const cancelled = await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: subscription.id, mode: 'on_date', cancel_at: date.toISOString(), refund: 'full' },
      { now: h.clock.now() },
    );
    const run = await h.settle(cancelled.runId);
    assertCompleted(run);
    const after = await getSubscription(h.db, subscription.id);
    assert.equal(after.status, 'cancel_scheduled');
    assert.equal(after.cancel_at?.getTime(), date.getTime());
    assert.equal((await sandboxSubscription(h, subscription.id)).cancel_at?.getTime(), date.getTime());
    const issued = step(run, 'issue_refund').output as { amount: number; refund_run_id: string };
    assert.equal(issued.amount, AMOUNT);
    assert.equal((await refundRuns(h, cancelled.runId)).length, 1);
    assertCompleted(await h.settle(issued.refund_run_id));
    assert.equal((await getPayment(h.db, payment.id)).refunded_amount, AMOUNT);
    await statsExact(h);
  });

  test('a cancelled subscription cannot be cancelled again; the same key returns the first run', async () => {
    const h = await harness;
    const { subscription } = await paidSubscription(h, 'EUR');
    const raw = { subscription_id: subscription.id, mode: 'immediately', refund: 'none' } as const;
    const first = await requestCancellation(h.db, h.registry, raw, {
      idempotencyKey: `api:c1-${kind}`,
      now: h.clock.now(),
    });
    assertCompleted(await h.settle(first.runId));
    const runs = await count(h.db, 'workflow_runs');
    await assert.rejects(
      requestCancellation(h.db, h.registry, raw, { idempotencyKey: `api:c2-${kind}`, now: h.clock.now() }),
      (e: unknown) => e instanceof ConflictError && e.details.status === 'cancelled',
    );
    assert.equal(await count(h.db, 'workflow_runs'), runs, 'no run for the refused request');
    const again = await requestCancellation(h.db, h.registry, raw, {
      idempotencyKey: `api:c1-${kind}`,
      now: h.clock.now(),
    });
    assert.deepEqual([again.created, again.runId], [false, first.runId]);
    await assert.rejects(
      requestCancellation(h.db, h.registry, { subscription_id: subscription.id, mode: 'on_date', refund: 'none' }),
      (e: unknown) => (e as { errors?: { field: string }[] }).errors?.[0]?.field === 'cancel_at',
    );
  });

  test('SMTP down: both runs stop at their email; restarted, the refund run is still the one started once', async () => {
    const h = await harness;
    const { customer, subscription, payment } = await paidSubscription(h, 'JPY');
    h.clock.advance(DAY);
    await h.smtp.stop();
    let up = false;
    try {
      const cancelled = await requestCancellation(
        h.db,
        h.registry,
        { subscription_id: subscription.id, mode: 'immediately', refund: 'full' },
        { now: h.clock.now() },
      );
      const failed = await driveRetries(h, cancelled.runId);
      assert.equal(failed.failed_step, 'send_customer_email');
      const [refundRun] = await refundRuns(h, cancelled.runId);
      assert.ok(refundRun);
      const refundFailed = await driveRetries(h, refundRun.id);
      assert.equal(refundFailed.failed_step, 'send_customer_email');
      await statsExact(h);
      const statsBefore = await counters(h.db, 'JPY');

      await h.smtp.restart();
      up = true;
      for (const id of [cancelled.runId, refundRun.id]) {
        await restartRun(h.db, { runId: id, actor: 'test', reason: 'smtp back', now: h.clock.now() });
      }
      const run = await h.settle(cancelled.runId);
      const refundDone = await h.settle(refundRun.id);
      assertCompleted(run);
      assertCompleted(refundDone);
      for (const name of ['cancel_subscription', 'issue_refund', 'sync_payment_provider', 'update_stats']) {
        assert.equal(attempts(run)[name], 1, `${name} ran once`);
      }
      assert.equal(attempts(refundDone).execute_provider_refund, 1);
      assert.equal((await refundRuns(h, cancelled.runId)).length, 1);
      assert.equal((await listPaymentRefunds(h.db, payment.id)).length, 1);
      assert.equal(
        await count(h.db, `provider_sandbox_refunds WHERE charge = '${payment.provider_reference}'`),
        1,
        'refunded once at the provider',
      );
      assert.deepEqual(await counters(h.db, 'JPY'), statsBefore);
      await statsExact(h);
      assert.equal(mailsTo(h, customer.email).filter((m) => m.mail.subject?.includes('cancelled')).length, 1);
      assert.equal((await getRun(h.db, cancelled.runId)).status, 'completed');
    } finally {
      if (!up) await h.smtp.restart();
    }
  });

  // A cancellation's provider step once found no provider id while the creation was still on its
  // way, said "not at the provider", and the creation then made it there active: cancelled here,
  // billed there. The engine now runs one customer's runs one at a time; the steps also read the
  // record as it is when they run, so a run outside that order cannot race either.
  test('created and cancelled at once, outside the customer order: the cancellation waits for the creation, then ends it there', async (t) => {
    const h = await harness;
    const plan = await seedPlan(h.db, { amount: AMOUNT, currency: 'EUR' });
    const customer = await seedCustomer(h.db);
    // A slow provider: the creation read its record (active) and is creating it there.
    const slow = faulty?.holdNext('createSubscription');
    assert.ok(slow);
    t.after(() => slow.release());
    const created = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code },
      { now: h.clock.now() },
    );
    await slow.entered;
    const id = created.record.id;
    // No owner, so no concurrency key (as a run started before per-customer order existed).
    const cancelled = await startWorkflow(h.db, h.registry, {
      type: 'subscription_cancellation',
      input: { subscription_id: id, mode: 'immediately', refund: 'none' },
      subjectRef: id,
      runFirstStep: true,
      now: h.clock.now(),
    });
    assert.equal((await getRun(h.db, cancelled.runId)).concurrency_key, null);
    const early = await h.settle(
      cancelled.runId,
      (r) => r.status === 'completed' || r.status === 'failed' || r.activity === 'retrying',
    );
    assert.equal(
      early.current_step,
      'sync_payment_provider',
      'the cancellation waits rather than finding nothing to cancel',
    );
    assert.match(
      JSON.stringify(step(early, 'sync_payment_provider').attempts),
      new RegExp(`not at the provider yet: waiting for ${created.runId}`),
    );

    slow.release();
    const creation = await h.settle(created.runId);
    assertCompleted(creation);
    assert.equal((step(creation, 'sync_payment_provider').output as { action: string }).action, 'created');
    const run = await driveRetries(h, cancelled.runId);
    assertCompleted(run);
    assert.equal((step(run, 'sync_payment_provider').output as { action: string }).action, 'cancelled');
    // Ended at the provider as here.
    assert.notEqual((await sandboxSubscription(h, id)).canceled_at, null);
    assert.equal((await getSubscription(h.db, id)).status, 'cancelled');
    await statsExact(h);
  });

  test('a creation restarted after its cancellation: nothing made for an ended subscription, a later end kept', async () => {
    const h = await harness;
    const plan = await seedPlan(h.db, { amount: AMOUNT, currency: 'EUR' });
    const outcomes: Record<string, { id: string; run: Awaited<ReturnType<BillingHarness['settle']>> }> = {};
    for (const mode of ['immediately', 'at_period_end'] as const) {
      const customer = await seedCustomer(h.db);
      // The provider refuses the creation (a 4xx): its run fails before the subscription is there.
      faulty?.failNext('createSubscription', new PermanentError('sandbox: 400 refused'));
      const created = await startSubscription(
        h.db,
        h.registry,
        { customer_id: customer.id, plan_code: plan.code },
        { now: h.clock.now() },
      );
      assert.equal((await h.settle(created.runId)).failed_step, 'sync_payment_provider');
      const cancelled = await requestCancellation(
        h.db,
        h.registry,
        { subscription_id: created.record.id, mode, refund: 'none' },
        { now: h.clock.now() },
      );
      const cancellation = await h.settle(cancelled.runId);
      assertCompleted(cancellation);
      assert.deepEqual(step(cancellation, 'sync_payment_provider').output, {
        provider: 'sandbox',
        action: 'none',
        reason: 'not at the provider',
      });
      // The operator fixes the cause and restarts the creation.
      await restartRun(h.db, { runId: created.runId, actor: 'test', reason: 'fixed', now: h.clock.now() });
      const run = await h.settle(created.runId);
      assertCompleted(run);
      outcomes[mode] = { id: created.record.id, run };
    }

    const ended = outcomes.immediately as { id: string; run: Awaited<ReturnType<BillingHarness['settle']>> };
    assert.deepEqual(step(ended.run, 'sync_payment_provider').output, {
      provider: 'sandbox',
      action: 'none',
      reason: 'cancelled before it reached the provider',
    });
    assert.equal(await count(h.db, `provider_sandbox_subscriptions WHERE subscription_id = '${ended.id}'`), 0);
    assert.equal((await getSubscription(h.db, ended.id)).provider_subscription_id, null);

    const ending = outcomes.at_period_end as { id: string; run: Awaited<ReturnType<BillingHarness['settle']>> };
    const local = await getSubscription(h.db, ending.id);
    assert.equal(local.status, 'cancel_scheduled');
    const output = step(ending.run, 'sync_payment_provider').output as { action: string; cancel_at: string };
    assert.deepEqual([output.action, output.cancel_at], ['created', local.cancel_at?.toISOString()]);
    const atSandbox = await sandboxSubscription(h, ending.id);
    assert.deepEqual([atSandbox.cancel_at?.getTime(), atSandbox.canceled_at], [local.cancel_at?.getTime(), null]);
    await statsExact(h);
  });

  test('a creation whose answer was lost, then cancelled: its retry finds what it made and ends it there', async () => {
    const h = await harness;
    const plan = await seedPlan(h.db, { amount: AMOUNT, currency: 'EUR' });
    const customer = await seedCustomer(h.db);
    // The sandbox creates the subscription, but the answer never reaches the run.
    faulty?.loseNextAnswer('createSubscription');
    const created = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code },
      { now: h.clock.now() },
    );
    await h.settle(created.runId, (r) => r.status !== 'in_progress' || r.activity === 'retrying');
    const id = created.record.id;
    assert.equal((await getSubscription(h.db, id)).provider_subscription_id, null);
    const cancelled = await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: id, mode: 'immediately', refund: 'none' },
      { now: h.clock.now() },
    );

    const creation = await driveRetries(h, created.runId);
    assertCompleted(creation);
    assert.deepEqual(
      [
        (step(creation, 'sync_payment_provider').output as { action: string }).action,
        (step(creation, 'sync_payment_provider').output as { status: string }).status,
      ],
      ['cancelled', 'canceled'],
    );
    assertCompleted(await driveRetries(h, cancelled.runId));
    const atSandbox = await sandboxSubscription(h, id);
    assert.notEqual(atSandbox.canceled_at, null, 'not left active at the provider');
    assert.equal(await count(h.db, `provider_sandbox_subscriptions WHERE subscription_id = '${id}'`), 1);
    assert.notEqual((await getSubscription(h.db, id)).provider_subscription_id, null);
    await statsExact(h);
  });
});
