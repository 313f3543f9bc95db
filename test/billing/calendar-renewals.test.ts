import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun } from '../../src/engine/index.ts';
import { startSubscription } from '../../src/billing/workflows/index.ts';
import {
  getCustomer,
  getSubscription,
  listCustomerInvoices,
  setCustomerPaymentMethod,
} from '../../src/billing/records/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { seedCustomer, seedPlan } from './helpers.ts';
import { DAY, assertStatsExact, maintenancePass, quiesce } from './calendar-support.ts';
import { assertCompleted, mailsTo, rows } from './workflow-support.ts';

// The billing calendar end to end: a monthly subscription with a 14-day trial lives three months
// on the test clock. The trial's end and each period's end renew it through the same workflows
// as the API (invoice_creation, then the charge's payment_success or payment_failure); a declined
// card in month 2 goes through dunning and recovers; the statistics stay exact at every step.

interface RunRow {
  id: string;
  type: string;
  status: string;
  outcome: string | null;
  input: Record<string, unknown>;
}

async function runsOf(h: BillingHarness, subjectRefs: string[]): Promise<RunRow[]> {
  return rows<RunRow>(
    h.db,
    `SELECT id, type, status, outcome, input FROM workflow_runs WHERE subject_ref = ANY ($1::text[]) ORDER BY created_at, id`,
    [subjectRefs],
  );
}

eachDatabase((kind) => {
  const harness = billingHarness(kind, { dunningDays: [1, 3, 5, 7] });

  test('three months of a monthly subscription with a trial: one invoice and one paid charge per period', async () => {
    const h = await harness;
    const start = new Date('2026-01-05T10:00:00Z');
    h.clock.set(start);
    const at = (days: number) => h.clock.set(new Date(start.getTime() + days * DAY));
    const customer = await seedCustomer(h.db);
    const plan = await seedPlan(h.db, { amount: 2000, currency: 'USD', interval: 'month', trial_days: 14 });

    const created = await startSubscription(
      h.db,
      h.registry,
      { customer_id: customer.id, plan_code: plan.code, payment_method: 'pm_card_ok' },
      { now: h.clock.now() },
    );
    const subscriptionId = created.record.id;
    assert.equal(created.record.status, 'trialing');
    assert.equal(created.record.trial_end?.toISOString(), '2026-01-19T10:00:00.000Z');
    await quiesce(h);
    await maintenancePass(h);
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 0, revenue: 0 });

    // Three days before the trial ends: the reminder, once however many passes run.
    at(10);
    await maintenancePass(h);
    assert.equal(mailsTo(h, customer.email).length, 1, 'only the welcome email so far');
    at(11);
    await maintenancePass(h);
    await maintenancePass(h);
    const reminders = mailsTo(h, customer.email).filter((m) => /trial ends/.test(m.mail.subject ?? ''));
    assert.equal(reminders.length, 1);
    assert.match(reminders[0]?.mail.text ?? '', /January 19, 2026/);
    assert.match(reminders[0]?.mail.text ?? '', /\$20\.00 per month to your payment method on file/);
    assert.notEqual((await getSubscription(h.db, subscriptionId)).trial_reminded_at, null);

    // The trial ends: the first paid period, its invoice and its charge.
    at(14);
    await maintenancePass(h);
    await quiesce(h);
    let subscription = await getSubscription(h.db, subscriptionId);
    assert.equal(subscription.status, 'active');
    assert.equal(subscription.current_period_start.toISOString(), '2026-01-19T10:00:00.000Z');
    assert.equal(subscription.current_period_end.toISOString(), '2026-02-19T10:00:00.000Z');
    assert.equal((await getCustomer(h.db, customer.id)).status, 'active');
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 2000, revenue: 2000 });

    // Month 2: the card on file is declined; dunning retries it after 1 and 3 days.
    await setCustomerPaymentMethod(h.db, customer.id, 'pm_card_insufficient_funds');
    at(45);
    await maintenancePass(h);
    await quiesce(h);
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 2000, revenue: 2000 });
    at(46);
    await quiesce(h);
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 2000, revenue: 2000 });
    // The customer updates their card; the next retry charges the new one.
    await setCustomerPaymentMethod(h.db, customer.id, 'pm_card_ok');
    at(48);
    await maintenancePass(h);
    await quiesce(h);
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 2000, revenue: 4000 });

    // Month 3, and on to the end of the third month: no fourth invoice before its period.
    at(73);
    await maintenancePass(h);
    await quiesce(h);
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 2000, revenue: 6000 });
    at(90);
    await maintenancePass(h);
    await quiesce(h);
    assert.deepEqual(await assertStatsExact(h, 'USD'), { mrr: 2000, revenue: 6000 });

    subscription = await getSubscription(h.db, subscriptionId);
    assert.equal(subscription.current_period_start.toISOString(), '2026-03-19T10:00:00.000Z');
    assert.equal(subscription.current_period_end.toISOString(), '2026-04-19T10:00:00.000Z');

    const invoices = (await listCustomerInvoices(h.db, customer.id)).reverse();
    assert.deepEqual(
      invoices.map((i) => [i.period_start?.toISOString(), i.period_end?.toISOString(), i.total, i.status]),
      [
        ['2026-01-19T10:00:00.000Z', '2026-02-19T10:00:00.000Z', 2000, 'paid'],
        ['2026-02-19T10:00:00.000Z', '2026-03-19T10:00:00.000Z', 2000, 'paid'],
        ['2026-03-19T10:00:00.000Z', '2026-04-19T10:00:00.000Z', 2000, 'paid'],
      ],
    );
    for (const [i, invoice] of invoices.entries()) {
      assert.equal(invoice.subscription_id, subscriptionId);
      const payments = await rows<{ id: string; status: string; retry_of: string | null }>(
        h.db,
        'SELECT id, status, retry_of FROM payments WHERE invoice_id = $1 ORDER BY created_at, id',
        [invoice.id],
      );
      const runs = await runsOf(h, [invoice.id, ...payments.map((p) => p.id)]);
      const byType = (type: string) => runs.filter((r) => r.type === type);
      // Each period: exactly one invoice_creation run (carrying the period) and one payment_success.
      assert.equal(byType('invoice_creation').length, 1, `invoice ${i + 1}`);
      const invoiceRun = byType('invoice_creation')[0] as RunRow;
      assert.equal(invoiceRun.input.period_start, invoice.period_start?.toISOString());
      assert.equal(invoiceRun.input.period_end, invoice.period_end?.toISOString());
      // Paid at once: the run ended early at await_payment.
      assert.equal(invoiceRun.status, 'completed');
      assert.equal(invoiceRun.outcome, 'paid');
      const detail = await getRun(h.db, invoiceRun.id);
      assert.equal(detail.steps.find((s) => s.name === 'await_payment')?.status, 'completed');
      assert.equal(byType('payment_success').length, 1, `invoice ${i + 1}`);
      assertCompleted(await getRun(h.db, (byType('payment_success')[0] as RunRow).id));
      if (i === 1) {
        // Declined, then recovered by dunning's second retry.
        assert.deepEqual(
          payments.map((p) => p.status),
          ['failed', 'succeeded'],
        );
        assert.equal(payments[1]?.retry_of, payments[0]?.id);
        const failure = byType('payment_failure');
        assert.equal(failure.length, 1);
        assert.equal(failure[0]?.outcome, 'recovered');
      } else {
        assert.deepEqual(
          payments.map((p) => p.status),
          ['succeeded'],
        );
        assert.equal(byType('payment_failure').length, 0);
      }
    }

    // The provider charged each key once: three periods paid, two declines on the way.
    const charges = await rows<{ status: string; n: number }>(
      h.db,
      `SELECT status, count(*)::int AS n FROM provider_sandbox_charges GROUP BY status ORDER BY status`,
    );
    assert.deepEqual(charges, [
      { status: 'failed', n: 2 },
      { status: 'succeeded', n: 3 },
    ]);
    // The customer got each invoice and each receipt once, and one trial reminder.
    const subjects = mailsTo(h, customer.email).map((m) => m.mail.subject ?? '');
    assert.equal(subjects.filter((s) => /^Invoice /.test(s)).length, 3);
    assert.equal(subjects.filter((s) => /^Receipt /.test(s)).length, 3);
    assert.equal(subjects.filter((s) => /trial ends/.test(s)).length, 1);
  });
});
