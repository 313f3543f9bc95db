import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelRun, getRun, restartRun } from '../../src/engine/index.ts';
import { RetryableError } from '../../src/errors.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { getPayment, getRefund } from '../../src/billing/records/index.ts';
import type { Payment } from '../../src/billing/records/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { startRefund } from '../../src/billing/workflows/index.ts';
import { settleUnknownRefunds } from '../../src/billing/workflows/refund-creation/settle.ts';
import { reconcile } from '../../src/billing/reconciliation/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { seedCustomer } from './helpers.ts';
import { counters, driveRetries, faultyProvider, seedProviderPayment, step } from './workflow-support.ts';
import type { FaultyProvider } from './workflow-support.ts';

// A refund the provider made while its answer was lost (a timeout after the provider acted), and
// whose run then stops at the provider step: the refund is what the provider says, never "not
// made" while the money went back. Each test checks the stored refund, the payment's refunded
// amount, the statistics against a recount, and the reconciliation's refund check.

/** Attempts of the provider step after the first (see EXTERNAL_RETRY). */
const RETRIES = 4;

eachDatabase((kind) => {
  let faulty: FaultyProvider | undefined;
  const harness = billingHarness(kind, {
    provider: (db, now) => (faulty = faultyProvider(createSandboxProvider({ db, now }))).provider,
  });
  const fault = (): FaultyProvider => {
    assert.ok(faulty);
    return faulty;
  };
  const paid = async (h: BillingHarness, amount: number, currency: string) => {
    const customer = await seedCustomer(h.db, { name: 'Grace Hopper' });
    return seedProviderPayment(h, customer, { amount, currency });
  };
  const refunded = async (h: BillingHarness, payment: Payment) => (await getPayment(h.db, payment.id)).refunded_amount;
  const today = (h: BillingHarness) => h.clock.now().toISOString().slice(0, 10);
  const statsExact = async (h: BillingHarness) => {
    const { differences, uncounted } = await compareStats(h.db);
    assert.deepEqual(differences, []);
    assert.equal(uncounted.refund, 0);
  };
  const refundCheck = async (h: BillingHarness) => {
    const report = await reconcile(h.db, { provider: h.provider, now: h.clock.now() });
    const found = report.checks.find((c) => c.name === 'provider_refunds');
    assert.ok(found);
    return found;
  };
  const madeAtSandbox = async (h: BillingHarness, payment: Payment) =>
    (
      await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM provider_sandbox_refunds WHERE charge = $1', [
        payment.provider_reference,
      ])
    ).rows[0]?.n;

  test('made at the provider, the answer lost: the step asks the provider, finds it, and the run completes', async () => {
    const h = await harness;
    const payment = await paid(h, 4200, 'SEK');
    fault().loseNextAnswer('refund');
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    const run = await h.settle(started.runId);
    assert.equal(run.status, 'completed');
    assert.equal(step(run, 'execute_provider_refund').attempts.length, 1);
    assert.equal(await madeAtSandbox(h, payment), 1);
    const refund = await getRefund(h.db, started.record.id);
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.failure_reason, null);
    assert.equal(await refunded(h, payment), 4200);
    assert.equal((await counters(h.db, 'SEK'))[`refunds ${today(h)}`], 4200);
    await statsExact(h);
    assert.equal((await refundCheck(h)).ok, true);
  });

  test('the answer lost and the provider unreachable, the run cancelled: pending until the provider answers, then made and counted', async () => {
    const h = await harness;
    const payment = await paid(h, 1300, 'NOK');
    fault().loseNextAnswer('refund');
    fault().failNext('findRefund', new RetryableError('sandbox: unreachable'));
    const started = await startRefund(h.db, h.registry, { payment_id: payment.id }, { now: h.clock.now() });
    await h.settle(started.runId, (r) => r.activity === 'retrying');
    const unknown = await getRefund(h.db, started.record.id);
    assert.equal(unknown.status, 'pending');
    assert.match(unknown.failure_reason ?? '', /^outcome unknown: the refund call failed .* could not be asked/);

    await cancelRun(h.db, { runId: started.runId, actor: 'test', reason: 'timeout', now: h.clock.now() }, h.registry);
    assert.equal((await getRun(h.db, started.runId)).status, 'cancelled');
    // Not called "not made" while the money may have gone back: pending, its amount held.
    assert.equal((await getRefund(h.db, started.record.id)).status, 'pending');
    assert.equal(await refunded(h, payment), 1300);

    // The provider still cannot be asked: the pass leaves it for the next one.
    fault().failNext('findRefund', new RetryableError('sandbox: unreachable'));
    const blocked = await settleUnknownRefunds(h.db, h.provider);
    assert.deepEqual([blocked.settled, blocked.errors.length], [[], 1]);
    assert.equal((await getRefund(h.db, started.record.id)).status, 'pending');

    const pass = await settleUnknownRefunds(h.db, h.provider);
    assert.deepEqual(pass, { settled: [started.record.id], errors: [] });
    const made = await getRefund(h.db, started.record.id);
    assert.equal(made.status, 'succeeded');
    assert.match(made.provider_reference ?? '', /^sbx_re_/);
    assert.equal(await refunded(h, payment), 1300);
    assert.equal((await counters(h.db, 'NOK'))[`refunds ${today(h)}`], 1300);
    await statsExact(h);
    assert.equal((await refundCheck(h)).ok, true);
    assert.deepEqual(await settleUnknownRefunds(h.db, h.provider), { settled: [], errors: [] });
  });

  test('every attempt failed and the provider unreachable, the run failed: settled as made, or as not made when it was not', async () => {
    const h = await harness;
    // Made by the first attempt (answer lost); nothing can be asked until the run has failed.
    const madePayment = await paid(h, 2600, 'DKK');
    fault().loseNextAnswer('refund');
    fault().failNext('refund', new RetryableError('sandbox: 503'), RETRIES);
    fault().failNext('findRefund', new RetryableError('sandbox: unreachable'), RETRIES + 1);
    const made = await startRefund(h.db, h.registry, { payment_id: madePayment.id }, { now: h.clock.now() });
    const failed = await driveRetries(h, made.runId);
    assert.deepEqual([failed.status, failed.failed_step], ['failed', 'execute_provider_refund']);
    assert.equal((await getRefund(h.db, made.record.id)).status, 'pending');
    assert.equal(await refunded(h, madePayment), 2600);

    // Never made: every attempt refused with a 503 before reaching the provider.
    const notPayment = await paid(h, 700, 'DKK');
    fault().failNext('refund', new RetryableError('sandbox: 503'), RETRIES + 1);
    fault().failNext('findRefund', new RetryableError('sandbox: unreachable'), RETRIES + 1);
    const never = await startRefund(h.db, h.registry, { payment_id: notPayment.id }, { now: h.clock.now() });
    assert.equal((await driveRetries(h, never.runId)).status, 'failed');
    assert.equal((await getRefund(h.db, never.record.id)).status, 'pending');

    // The daily check names the one the provider made while Billflow waits to learn it.
    const reported = await refundCheck(h);
    assert.equal(reported.finding_count, 2, JSON.stringify(reported.findings));
    const first = reported.findings.find((f) => f.objects[0]?.id === made.record.id);
    assert.match(first?.message ?? '', /is pending in Billflow but succeeded at the provider/);
    assert.deepEqual(
      first?.objects.map((o) => o.url),
      [`/records/refund/${made.record.id}`, `/runs/${made.runId}`, `/customers/${madePayment.customer_id}`],
    );

    const pass = await settleUnknownRefunds(h.db, h.provider);
    assert.deepEqual([...pass.settled].sort(), [made.record.id, never.record.id].sort());
    assert.equal((await getRefund(h.db, made.record.id)).status, 'succeeded');
    assert.equal(await refunded(h, madePayment), 2600);
    const notMade = await getRefund(h.db, never.record.id);
    assert.equal(notMade.status, 'failed');
    assert.match(
      notMade.failure_reason ?? '',
      /^not executed: the run failed at execute_provider_refund and sandbox has no such refund/,
    );
    assert.equal(await refunded(h, notPayment), 0);
    assert.equal((await counters(h.db, 'DKK'))[`refunds ${today(h)}`], 2600);
    await statsExact(h);
    assert.equal((await refundCheck(h)).ok, true);

    // A restart of the run whose refund was not made makes it once.
    await restartRun(h.db, { runId: never.runId, actor: 'test', reason: 'provider back', now: h.clock.now() });
    assert.equal((await h.settle(never.runId)).status, 'completed');
    assert.equal((await getRefund(h.db, never.record.id)).status, 'succeeded');
    assert.equal(await madeAtSandbox(h, notPayment), 1);
    assert.equal((await counters(h.db, 'DKK'))[`refunds ${today(h)}`], 3300);
    await statsExact(h);
  });

  test('reconciliation: a refund recorded as not made that the provider made, and a pending one it never made', async () => {
    const h = await harness;
    const payment = await paid(h, 5000, 'PLN');
    const made = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 1000 }, { now: h.clock.now() });
    assert.equal((await h.settle(made.runId)).status, 'completed');
    // A refund Billflow holds as not made although the provider made it (as an older release could leave it).
    await h.db.query(
      `UPDATE refunds SET status = 'cancelled', failure_reason = 'not executed: the run was cancelled' WHERE id = $1`,
      [made.record.id],
    );
    // A refund left pending by a run that failed before it reached the provider.
    fault().failNext('refund', new RetryableError('sandbox: 503'), RETRIES + 1);
    const never = await startRefund(h.db, h.registry, { payment_id: payment.id, amount: 500 }, { now: h.clock.now() });
    assert.equal((await driveRetries(h, never.runId)).status, 'failed');
    assert.equal((await getRefund(h.db, never.record.id)).status, 'failed'); // asked: not made
    await h.db.query(`UPDATE refunds SET status = 'pending', failure_reason = NULL WHERE id = $1`, [never.record.id]);

    const reported = await refundCheck(h);
    assert.equal(reported.finding_count, 2, JSON.stringify(reported.findings));
    const messages = reported.findings.map((f) => f.message).join('\n');
    assert.match(
      messages,
      new RegExp(`refund ${made.record.id} is cancelled in Billflow but succeeded at the provider`),
    );
    assert.match(
      messages,
      new RegExp(`refund ${never.record.id} is pending but its run is failed and the provider has no such refund`),
    );
  });
});
