import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartRun } from '../../src/engine/index.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { formatMoney } from '../../src/notify/index.ts';
import { getPayment, getRefund, listPaymentRefunds, recordPayment } from '../../src/billing/records/index.ts';
import { compareStats, countPayment } from '../../src/billing/stats/index.ts';
import { startChargeback, startRefund } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer } from './helpers.ts';
import {
  assertCompleted,
  attempts,
  counters,
  driveRetries,
  mailsTo,
  rows,
  seedProviderPayment,
  slackMentioning,
  step,
  switchableProvider,
} from './workflow-support.ts';
import type { SwitchableProvider } from './workflow-support.ts';

// refund_creation and chargeback_creation end to end through their operations, on the sandbox
// and the Stripe stand-in: provider refund keyed by the step, 5xx retried, 4xx failing at once,
// an SMTP outage restarted without refunding twice, refunds and disputes seen again linked.
const standIn = await startStripeStandIn();

async function statsExact(h: BillingHarness) {
  const { differences } = await compareStats(h.db);
  assert.deepEqual(differences, []);
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
  const paid = async (h: BillingHarness, amount: number, currency: string) => {
    const customer = await seedCustomer(h.db, { name: 'Grace Hopper' });
    return { customer, payment: await seedProviderPayment(h, customer, { amount, currency }) };
  };

  test('refund: recorded, refunded at the sandbox, counted, mailed, announced; the same key is the same refund', async () => {
    const h = await setup();
    const { customer, payment } = await paid(h, 5000, 'EUR');
    const started = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 1250, reason: 'requested_by_customer' },
      { idempotencyKey: `api:refund-${kind}`, now: h.clock.now() },
    );
    assert.deepEqual([started.created, started.record.status, started.record.amount], [true, 'pending', 1250]);
    const run = await h.settle(started.runId);
    assertCompleted(run);
    assert.deepEqual(
      run.steps.map((s) => s.name),
      ['record_refund', 'execute_provider_refund', 'update_stats', 'send_customer_email', 'send_internal_notice'],
    );
    assert.equal(run.subject_ref, started.record.id);
    assert.equal(run.owner_ref, customer.id);

    const refund = await getRefund(h.db, started.record.id);
    assert.equal(refund.status, 'succeeded');
    const [atSandbox] = await rows<{ id: string; charge: string; amount: number; idempotency_key: string }>(
      h.db,
      'SELECT id, charge, amount, idempotency_key FROM provider_sandbox_refunds WHERE id = $1',
      [refund.provider_reference],
    );
    assert.ok(atSandbox);
    assert.equal(atSandbox.charge, payment.provider_reference);
    assert.equal(Number(atSandbox.amount), 1250);
    assert.equal(atSandbox.idempotency_key, `${started.runId}:execute_provider_refund`);
    assert.equal((await getPayment(h.db, payment.id)).refunded_amount, 1250);
    assert.deepEqual(step(run, 'execute_provider_refund').output, {
      provider: 'sandbox',
      action: 'refunded',
      status: 'succeeded',
      provider_refund_id: atSandbox.id,
      amount: 1250,
      failure_code: null,
    });

    await statsExact(h);
    assert.equal((await counters(h.db, 'EUR'))[`refunds ${h.clock.now().toISOString().slice(0, 10)}`], 1250);

    const [mail] = mailsTo(h, customer.email);
    assert.equal(mail?.mail.subject, `Refund of ${formatMoney(1250, 'EUR')}`);
    assert.match(mail?.mail.text ?? '', /Grace Hopper/);
    assert.equal(slackMentioning(h, formatMoney(1250, 'EUR')).length, 1);

    const again = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 1250 },
      { idempotencyKey: `api:refund-${kind}`, now: h.clock.now() },
    );
    assert.deepEqual([again.created, again.runId, again.record.id], [false, started.runId, started.record.id]);
    assert.equal((await listPaymentRefunds(h.db, payment.id)).length, 1);
  });

  test('refund: bad input is refused with the field named and writes nothing', async () => {
    const h = await setup();
    const { payment } = await paid(h, 1000, 'EUR');
    const before = [await count(h.db, 'refunds'), await count(h.db, 'workflow_runs')];
    const cases: [unknown, string][] = [
      [{ payment_id: payment.id, amount: 1001 }, 'amount'],
      [{ payment_id: payment.id, amount: 0 }, 'amount'],
      [{ payment_id: 'pay_missing' }, 'payment_id'],
      [{ amount: 10 }, 'payment_id'],
    ];
    for (const [raw, field] of cases) {
      await assert.rejects(
        startRefund(h.db, h.registry, raw as Parameters<typeof startRefund>[2], { now: h.clock.now() }),
        (e: unknown) => e instanceof InvalidInputError && e.errors.some((f) => f.field === field),
        JSON.stringify(raw),
      );
    }
    assert.deepEqual([await count(h.db, 'refunds'), await count(h.db, 'workflow_runs')], before);
  });

  test('refund already made at the provider: linked, never refunded again; seen again, the same refund', async () => {
    const h = await setup();
    const { payment } = await paid(h, 2000, 'GBP');
    const refundsAtSandbox = await count(h.db, 'provider_sandbox_refunds');
    const raw = { payment_id: payment.id, amount: 2000, provider_refund_id: `re_stripe_${kind}` };
    const started = await startRefund(h.db, h.registry, raw as Parameters<typeof startRefund>[2], {
      idempotencyKey: `stripe:evt_a_${kind}`,
      now: h.clock.now(),
    });
    assert.equal(started.record.status, 'succeeded');
    const run = await h.settle(started.runId);
    assertCompleted(run);
    assert.equal((step(run, 'execute_provider_refund').output as { action: string }).action, 'linked');
    assert.equal(await count(h.db, 'provider_sandbox_refunds'), refundsAtSandbox);
    const again = await startRefund(h.db, h.registry, raw as Parameters<typeof startRefund>[2], {
      idempotencyKey: `stripe:evt_b_${kind}`,
      now: h.clock.now(),
    });
    assert.deepEqual([again.created, again.runId, again.record.id], [false, started.runId, started.record.id]);
    await statsExact(h);
  });

  test('refund, SMTP down: fails at the email after its retries; restarted, completes without refunding twice', async () => {
    const h = await setup();
    const { customer, payment } = await paid(h, 3000, 'CHF');
    await h.smtp.stop();
    let up = false;
    try {
      const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
      const failed = await driveRetries(h, started.runId);
      assert.deepEqual([failed.status, failed.failed_step], ['failed', 'send_customer_email']);
      assert.ok(step(failed, 'send_customer_email').attempts.length > 1, 'retried first');
      await statsExact(h);
      const statsBefore = await counters(h.db, 'CHF');
      await h.smtp.restart();
      up = true;
      await restartRun(h.db, { runId: started.runId, actor: 'test', reason: 'smtp back', now: h.clock.now() });
      const run = await h.settle(started.runId);
      assertCompleted(run);
      assert.deepEqual(
        [attempts(run).record_refund, attempts(run).execute_provider_refund, attempts(run).update_stats],
        [1, 1, 1],
      );
      assert.equal(await count(h.db, `provider_sandbox_refunds WHERE charge = '${payment.provider_reference}'`), 1);
      assert.deepEqual(await counters(h.db, 'CHF'), statsBefore);
      assert.equal(mailsTo(h, customer.email).length, 1);
    } finally {
      if (!up) await h.smtp.restart();
    }
  });

  test('refund at Stripe: keyed by the step, a 500 retried with the same key, one refund made', async () => {
    const h = await setup('stripe');
    const { payment } = await paid(h, 4000, 'USD');
    standIn.failNext(1, { kind: 'status', status: 500 }, { method: 'POST', path: '/v1/refunds' });
    const started = await startRefund(
      h.db,
      h.registry,
      { payment_id: payment.id, amount: 1500 },
      { now: h.clock.now() },
    );
    const run = await driveRetries(h, started.runId);
    assertCompleted(run);
    assert.equal(step(run, 'execute_provider_refund').attempts.length, 2);
    const key = `${started.runId}:execute_provider_refund`;
    assert.deepEqual(
      standIn.requests
        .filter((r) => r.method === 'POST' && r.path === '/v1/refunds' && r.idempotencyKey === key)
        .map((r) => r.status),
      [500, 200],
    );
    const made = [...standIn.payments.refunds.values()].filter((r) => r.metadata.billflow_key === key);
    assert.equal(made.length, 1);
    assert.equal(made[0]?.amount, 1500);
    const refund = await getRefund(h.db, started.record.id);
    assert.deepEqual([refund.status, refund.provider_reference], ['succeeded', made[0]?.id]);
    await statsExact(h);
  });

  test('refund at Stripe, 4xx: fails at once, the refund is failed and nothing is counted or mailed', async () => {
    const h = await setup('stripe');
    const { customer, payment } = await paid(h, 4000, 'USD');
    standIn.failNext(1, { kind: 'status', status: 400 }, { method: 'POST', path: '/v1/refunds' });
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    const run = await h.settle(started.runId);
    assert.deepEqual([run.status, run.failed_step], ['failed', 'execute_provider_refund']);
    assert.equal(step(run, 'execute_provider_refund').attempts.length, 1);
    assert.equal((await getRefund(h.db, started.record.id)).status, 'failed');
    assert.equal((await getPayment(h.db, payment.id)).refunded_amount, 0);
    assert.equal((await compareStats(h.db)).uncounted.refund, 0);
    await statsExact(h);
    assert.equal(mailsTo(h, customer.email).length, 0);

    // The cause gone, an operator restart looks the refund up, makes it once and completes.
    await restartRun(h.db, { runId: started.runId, actor: 'test', reason: 'fixed', now: h.clock.now() });
    assertCompleted(await h.settle(started.runId));
    const key = `${started.runId}:execute_provider_refund`;
    assert.equal([...standIn.payments.refunds.values()].filter((r) => r.metadata.billflow_key === key).length, 1);
    assert.equal((await getRefund(h.db, started.record.id)).status, 'succeeded');
    assert.equal(mailsTo(h, customer.email).length, 1);
    await statsExact(h);
  });

  test('refund of a charge the sandbox does not know: permanent, fails at once, the refund failed and uncounted', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db);
    const payment = await recordPayment(
      h.db,
      {
        customer_id: customer.id,
        amount: 700,
        currency: 'SEK',
        status: 'succeeded',
        provider_reference: `sbx_ch_unknown_${kind}`,
      },
      { at: h.clock.now() },
    );
    await countPayment(h.db, payment.id);
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    const run = await h.settle(started.runId);
    assert.deepEqual([run.status, run.failed_step], ['failed', 'execute_provider_refund']);
    assert.equal(step(run, 'execute_provider_refund').attempts.length, 1);
    assert.match(JSON.stringify(run.error), /no such charge/);
    assert.equal((await getRefund(h.db, started.record.id)).status, 'failed');
    assert.equal((await getPayment(h.db, payment.id)).refunded_amount, 0);
    await statsExact(h);
  });

  test('chargeback: recorded, counted, mailed and announced; the same dispute seen again is the same one', async () => {
    const h = await setup();
    const { customer, payment } = await paid(h, 6000, 'EUR');
    const raw = { payment_id: payment.id, reason: 'fraudulent', provider_reference: `dp_${kind}` };
    const started = await startChargeback(h.db, h.registry, raw as Parameters<typeof startChargeback>[2], {
      idempotencyKey: `stripe:evt_cb_${kind}`,
      now: h.clock.now(),
    });
    assert.deepEqual([started.created, started.record.amount, started.record.status], [true, 6000, 'needs_response']);
    const run = await h.settle(started.runId);
    assertCompleted(run);
    assert.deepEqual(
      run.steps.map((s) => s.name),
      ['record_chargeback', 'update_stats', 'send_customer_email', 'send_internal_notice'],
    );
    assert.equal(run.owner_ref, customer.id);
    await statsExact(h);
    assert.equal((await counters(h.db, 'EUR'))[`chargebacks ${h.clock.now().toISOString().slice(0, 10)}`], 6000);
    const [mail] = mailsTo(h, customer.email);
    assert.equal(mail?.mail.subject, `A dispute was opened for ${formatMoney(6000, 'EUR')}`);
    const slack = slackMentioning(h, 'Chargeback').filter((t) => t.includes(formatMoney(6000, 'EUR')));
    assert.equal(slack.length, 1);
    assert.match(slack[0] ?? '', /fraudulent/);

    const again = await startChargeback(h.db, h.registry, raw as Parameters<typeof startChargeback>[2], {
      idempotencyKey: `stripe:evt_cb2_${kind}`,
      now: h.clock.now(),
    });
    assert.deepEqual([again.created, again.runId, again.record.id], [false, started.runId, started.record.id]);
    const repeated = await startChargeback(h.db, h.registry, raw as Parameters<typeof startChargeback>[2], {
      idempotencyKey: `stripe:evt_cb_${kind}`,
      now: h.clock.now(),
    });
    assert.deepEqual([repeated.created, repeated.runId], [false, started.runId]);
    assert.equal(await count(h.db, `chargebacks WHERE payment_id = '${payment.id}'`), 1);
  });

  test('chargeback: bad input is refused with the field named and writes nothing', async () => {
    const h = await setup();
    const { payment } = await paid(h, 1000, 'EUR');
    const before = [await count(h.db, 'chargebacks'), await count(h.db, 'workflow_runs')];
    for (const [raw, field] of [
      [{ payment_id: payment.id, amount: 1001 }, 'amount'],
      [{ payment_id: 'pay_missing' }, 'payment_id'],
      [{ payment_id: payment.id, status: 'bogus' }, 'status'],
    ] as [unknown, string][]) {
      await assert.rejects(
        startChargeback(h.db, h.registry, raw as Parameters<typeof startChargeback>[2], { now: h.clock.now() }),
        (e: unknown) => e instanceof InvalidInputError && e.errors.some((f) => f.field === field),
      );
    }
    assert.deepEqual([await count(h.db, 'chargebacks'), await count(h.db, 'workflow_runs')], before);
  });
});
