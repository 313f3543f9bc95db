import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelRun, getRun, restartRun, skipFailedStep } from '../../src/engine/index.ts';
import { ConflictError, InvalidInputError, PermanentError, RetryableError } from '../../src/errors.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { getPayment, getRefund, listPaymentRefunds, recordPayment } from '../../src/billing/records/index.ts';
import type { Customer, Payment } from '../../src/billing/records/index.ts';
import { compareStats, countPayment } from '../../src/billing/stats/index.ts';
import { startRefund } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer } from './helpers.ts';
import {
  attempts,
  counters,
  driveRetries,
  faultyProvider,
  mailsTo,
  seedProviderPayment,
  step,
} from './workflow-support.ts';
import type { FaultyProvider } from './workflow-support.ts';

// What becomes of a refund whose run does not simply complete: refused up front when nothing
// could make it, failed or cancelled (its amount free again, never counted) when its run stops
// before the provider made it, counted again when a restart then makes it. Each test checks the
// stored refund, the payment's refunded amount and the statistics against a recount.

async function statsExact(h: BillingHarness): Promise<void> {
  const { differences, uncounted } = await compareStats(h.db);
  assert.deepEqual(differences, []);
  assert.equal(uncounted.refund, 0);
}

const ran = (h: BillingHarness, runId: string) => h.settle(runId);

eachDatabase((kind) => {
  let faulty: FaultyProvider | undefined;
  const harness = billingHarness(kind, {
    provider: (db, now) => (faulty = faultyProvider(createSandboxProvider({ db, now }))).provider,
  });
  const paid = async (h: BillingHarness, amount: number, currency: string) => {
    const customer = await seedCustomer(h.db, { name: 'Ada Lovelace' });
    return { customer, payment: await seedProviderPayment(h, customer, { amount, currency }) };
  };
  const refundedAmount = async (h: BillingHarness, payment: Payment) =>
    (await getPayment(h.db, payment.id)).refunded_amount;
  const refundStatus = async (h: BillingHarness, id: string) => (await getRefund(h.db, id)).status;
  const today = (h: BillingHarness) => h.clock.now().toISOString().slice(0, 10);

  test('a payment recorded without a provider reference: a refund is refused up front, or recorded as made elsewhere', async () => {
    const h = await harness;
    const customer: Customer = await seedCustomer(h.db);
    const payment = await recordPayment(
      h.db,
      { customer_id: customer.id, amount: 5000, currency: 'NOK', status: 'succeeded' },
      { at: h.clock.now() },
    );
    await countPayment(h.db, payment.id);
    const before = [await count(h.db, 'refunds'), await count(h.db, 'workflow_runs')];
    await assert.rejects(
      startRefund(h.db, h.registry, { payment_id: payment.id, amount: 1000 }, { now: h.clock.now() }),
      (e: unknown) =>
        e instanceof InvalidInputError &&
        e.errors.some((f) => f.field === 'payment_id' && /without a payment provider reference/.test(f.message)),
    );
    assert.deepEqual([await count(h.db, 'refunds'), await count(h.db, 'workflow_runs')], before);
    assert.equal(await refundedAmount(h, payment), 0);

    // Refunded by bank transfer: recorded as done, no provider call, counted.
    const external = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 1000, provider_refund_id: `bank-transfer-${kind}` },
      { now: h.clock.now() },
    );
    const run = await ran(h, external.runId);
    assert.equal(run.status, 'completed');
    assert.equal((step(run, 'execute_provider_refund').output as { action: string }).action, 'linked');
    assert.equal(await refundStatus(h, external.record.id), 'succeeded');
    assert.equal(await refundedAmount(h, payment), 1000);
    assert.equal((await counters(h.db, 'NOK'))[`refunds ${today(h)}`], 1000);
    await statsExact(h);
  });

  test('a refund the provider refuses fails its run: the refund is failed, its amount free, nothing counted', async () => {
    const h = await harness;
    const { customer, payment } = await paid(h, 5000, 'DKK');
    faulty?.failNext('refund', new PermanentError('sandbox: 400 charge_disputed'));
    const started = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 5000 },
      { now: h.clock.now() },
    );
    const run = await ran(h, started.runId);
    assert.deepEqual([run.status, run.failed_step], ['failed', 'execute_provider_refund']);
    assert.equal(step(run, 'execute_provider_refund').attempts.length, 1);
    const refund = await getRefund(h.db, started.record.id);
    assert.equal(refund.status, 'failed');
    assert.match(refund.failure_reason ?? '', /^not executed: the run failed at execute_provider_refund/);
    assert.equal(await refundedAmount(h, payment), 0);
    assert.equal((await counters(h.db, 'DKK'))[`refunds ${today(h)}`], undefined);
    assert.equal(mailsTo(h, customer.email).length, 0);
    await statsExact(h);

    // Cancelling the failed run makes the refund cancelled, still free and uncounted.
    await cancelRun(h.db, { runId: started.runId, actor: 'test', reason: 'customer kept the goods' }, h.registry);
    assert.equal(await refundStatus(h, started.record.id), 'cancelled');
    assert.equal(await refundedAmount(h, payment), 0);
    await statsExact(h);

    // The payment can be refunded again in full.
    const again = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    assert.equal((await ran(h, again.runId)).status, 'completed');
    assert.equal(await refundStatus(h, again.record.id), 'succeeded');
    assert.equal(await refundedAmount(h, payment), 5000);
    assert.equal((await counters(h.db, 'DKK'))[`refunds ${today(h)}`], 5000);
    await statsExact(h);
  });

  test('a failed refund run restarted: the refund is made once, pending again, then succeeded and counted', async () => {
    const h = await harness;
    const { payment } = await paid(h, 4000, 'PLN');
    faulty?.failNext('refund', new PermanentError('sandbox: 400 try later'));
    const started = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 1500 },
      { now: h.clock.now() },
    );
    assert.equal((await ran(h, started.runId)).status, 'failed');
    assert.equal(await refundStatus(h, started.record.id), 'failed');
    assert.equal(await refundedAmount(h, payment), 0);

    await restartRun(h.db, { runId: started.runId, actor: 'test', reason: 'fixed', now: h.clock.now() });
    const run = await ran(h, started.runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const refund = await getRefund(h.db, started.record.id);
    assert.deepEqual([refund.status, refund.failure_reason], ['succeeded', null]);
    assert.equal(await refundedAmount(h, payment), 1500);
    assert.equal(await count(h.db, `provider_sandbox_refunds WHERE charge = '${payment.provider_reference}'`), 1);
    assert.equal((await counters(h.db, 'PLN'))[`refunds ${today(h)}`], 1500);
    await statsExact(h);
  });

  test('a failed refund restarted after another refund took its amount: fails for good, stays failed, nothing counted twice', async () => {
    const h = await harness;
    const { payment } = await paid(h, 3000, 'CZK');
    faulty?.failNext('refund', new PermanentError('sandbox: 400 try later'));
    const first = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 2000 }, { now: h.clock.now() });
    assert.equal((await ran(h, first.runId)).status, 'failed');
    const second = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 2000 },
      { now: h.clock.now() },
    );
    assert.equal((await ran(h, second.runId)).status, 'completed');

    await restartRun(h.db, { runId: first.runId, actor: 'test', reason: 'retry', now: h.clock.now() });
    const run = await ran(h, first.runId);
    assert.deepEqual([run.status, run.failed_step], ['failed', 'execute_provider_refund']);
    assert.match(JSON.stringify(run.error), /no longer has 2000 left to refund/);
    assert.equal(step(run, 'execute_provider_refund').attempts.length, 2, 'no retry of a conflict');
    assert.equal(await refundStatus(h, first.record.id), 'failed');
    assert.equal(await refundedAmount(h, payment), 2000);
    assert.equal(await count(h.db, `provider_sandbox_refunds WHERE charge = '${payment.provider_reference}'`), 1);
    await statsExact(h);
  });

  test('a refund run cancelled while it waits for a retry: the refund is cancelled, its amount free, never counted', async () => {
    const h = await harness;
    const { customer, payment } = await paid(h, 2500, 'HUF');
    faulty?.failNext('refund', new RetryableError('sandbox: 503'));
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    await h.settle(started.runId, (r) => r.activity === 'retrying');
    await cancelRun(h.db, { runId: started.runId, actor: 'test', reason: 'duplicate', now: h.clock.now() }, h.registry);
    h.clock.advance(60 * 60_000);
    await h.worker.drain();
    const run = await getRun(h.db, started.runId);
    assert.equal(run.status, 'cancelled');
    const refund = await getRefund(h.db, started.record.id);
    assert.equal(refund.status, 'cancelled');
    assert.match(
      refund.failure_reason ?? '',
      /^not executed: the run was cancelled at execute_provider_refund \(duplicate\)/,
    );
    assert.equal(await refundedAmount(h, payment), 0);
    assert.equal(await count(h.db, `provider_sandbox_refunds WHERE charge = '${payment.provider_reference}'`), 0);
    assert.equal(mailsTo(h, customer.email).length, 0);
    await statsExact(h);
  });

  test('cancel while the provider refund is being made is refused; once made, the refund counts', async () => {
    const h = await harness;
    const { payment } = await paid(h, 1800, 'RON');
    const held = faulty?.holdNext('refund');
    assert.ok(held);
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    await held.entered;
    await assert.rejects(
      cancelRun(h.db, { runId: started.runId, actor: 'test', reason: 'too late', now: h.clock.now() }, h.registry),
      (e: unknown) => e instanceof ConflictError && /being made at the provider right now/.test(e.message),
    );
    assert.equal((await getRun(h.db, started.runId)).status, 'in_progress');
    assert.equal(await refundStatus(h, started.record.id), 'pending');
    held.release();
    assert.equal((await ran(h, started.runId)).status, 'completed');
    assert.equal(await refundStatus(h, started.record.id), 'succeeded');
    assert.equal(await refundedAmount(h, payment), 1800);
    await statsExact(h);
  });

  test('a refund requested while another refund of the payment runs: refused beyond the rest, queued otherwise; the first failing frees its amount', async () => {
    const h = await harness;
    const { payment } = await paid(h, 5000, 'BGN');
    const held = faulty?.holdNext('refund', new PermanentError('sandbox: 400 refused'));
    assert.ok(held);
    const first = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 3000 }, { now: h.clock.now() });
    await held.entered;
    await assert.rejects(
      startRefund(h.db, h.registry, { payment_id: payment.id, amount: 3000 }, { now: h.clock.now() }),
      (e: unknown) => e instanceof InvalidInputError && e.errors.some((f) => f.field === 'amount'),
    );
    const second = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 2000 },
      { now: h.clock.now() },
    );
    const queued = await getRun(h.db, second.runId);
    assert.deepEqual([queued.current_step, queued.waiting_for], ['execute_provider_refund', first.runId]);
    assert.equal(await refundedAmount(h, payment), 5000);

    // Nothing is left for a third while both hold their amounts.
    await assert.rejects(
      startRefund(h.db, h.registry, { payment_id: payment.id, amount: 1 }, { now: h.clock.now() }),
      InvalidInputError,
    );

    held.release();
    const failed = await ran(h, first.runId);
    assert.deepEqual([failed.status, failed.failed_step], ['failed', 'execute_provider_refund']);
    assert.equal((await ran(h, second.runId)).status, 'completed');
    assert.equal(await refundStatus(h, first.record.id), 'failed');
    assert.equal(await refundStatus(h, second.record.id), 'succeeded');
    assert.equal(await refundedAmount(h, payment), 2000);

    const third = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 3000 }, { now: h.clock.now() });
    assert.equal((await ran(h, third.runId)).status, 'completed');
    assert.equal(await refundedAmount(h, payment), 5000);
    assert.deepEqual(
      (await listPaymentRefunds(h.db, payment.id)).map((r) => [r.amount, r.status]),
      [
        [3000, 'succeeded'],
        [2000, 'succeeded'],
        [3000, 'failed'],
      ],
    );
    assert.equal((await counters(h.db, 'BGN'))[`refunds ${today(h)}`], 5000);
    await statsExact(h);
  });

  test('a refund run cancelled while queued behind another run of its customer: cancelled, amount free', async () => {
    const h = await harness;
    const { payment } = await paid(h, 1000, 'ISK');
    const held = faulty?.holdNext('refund');
    assert.ok(held);
    const first = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 400 }, { now: h.clock.now() });
    await held.entered;
    const queued = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 600 }, { now: h.clock.now() });
    await cancelRun(h.db, { runId: queued.runId, actor: 'test', reason: 'not needed', now: h.clock.now() }, h.registry);
    assert.equal(await refundStatus(h, queued.record.id), 'cancelled');
    assert.equal(await refundedAmount(h, payment), 400);
    held.release();
    assert.equal((await ran(h, first.runId)).status, 'completed');
    assert.equal(await refundedAmount(h, payment), 400);
    await statsExact(h);
  });

  test('a refund run that fails after the provider made the refund, then is cancelled: the refund stays made and counts', async () => {
    const h = await harness;
    const { payment } = await paid(h, 900, 'HRK');
    await h.smtp.stop();
    let up = false;
    try {
      const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
      const failed = await driveRetries(h, started.runId);
      assert.deepEqual([failed.status, failed.failed_step], ['failed', 'send_customer_email']);
      assert.equal(await refundStatus(h, started.record.id), 'succeeded');
      await cancelRun(h.db, { runId: started.runId, actor: 'test', reason: 'no mail', now: h.clock.now() }, h.registry);
      assert.equal(await refundStatus(h, started.record.id), 'succeeded');
      assert.equal(await refundedAmount(h, payment), 900);
      await statsExact(h);
    } finally {
      if (!up) await h.smtp.restart();
      up = true;
    }
  });

  test('skipping the failed provider refund: the run goes on, the refund is recorded as not made, nothing counted or mailed', async () => {
    const h = await harness;
    const { customer, payment } = await paid(h, 2200, 'MXN');
    faulty?.failNext('refund', new PermanentError('sandbox: 400 refused'));
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    assert.equal((await ran(h, started.runId)).status, 'failed');
    await skipFailedStep(h.db, {
      runId: started.runId,
      actor: 'user:ops',
      reason: 'refunded by bank transfer',
      now: h.clock.now(),
    });
    const run = await ran(h, started.runId);
    assert.equal(run.status, 'completed', `${run.failed_step}: ${JSON.stringify(run.error)}`);
    assert.deepEqual(step(run, 'execute_provider_refund').output, {
      $skipped: true,
      reason: 'refunded by bank transfer',
      actor: 'user:ops',
    });
    assert.equal(attempts(run).update_stats, 1);
    assert.deepEqual(step(run, 'update_stats').output, {
      counted: false,
      status: 'cancelled',
      reason: 'the provider refund was skipped: not executed',
    });
    const refund = await getRefund(h.db, started.record.id);
    assert.equal(refund.status, 'cancelled');
    assert.match(refund.failure_reason ?? '', /^not executed: an operator skipped execute_provider_refund/);
    assert.equal(await refundedAmount(h, payment), 0);
    assert.equal((await counters(h.db, 'MXN'))[`refunds ${today(h)}`], undefined);
    assert.equal(mailsTo(h, customer.email).length, 0);
    assert.equal(step(run, 'send_customer_email').status, 'completed');
    assert.equal(step(run, 'send_internal_notice').status, 'completed');
    await statsExact(h);
  });
});
