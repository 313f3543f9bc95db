import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun, listRuns } from '../../src/engine/index.ts';
import { ConflictError, InvalidInputError } from '../../src/errors.ts';
import {
  cancelSubscription,
  getInvoice,
  getSubscription,
  listCustomerInvoices,
  listPlanChanges,
  prorate,
} from '../../src/billing/records/index.ts';
import { requestPlanChange, startSubscription } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { seedCustomer, seedPlan } from './helpers.ts';
import { DAY, assertStatsExact, maintenancePass, quiesce } from './calendar-support.ts';
import { assertCompleted, mailsTo, rows, step } from './workflow-support.ts';

// subscription_plan_change end to end: an upgrade now puts its proration on the next renewal
// invoice (once), a downgrade at period end is applied by the renewal, the statistics equal the
// recount throughout, and a refused change leaves everything as it was.

async function subscribed(h: BillingHarness, currency: string, amounts: { from: number; to: number }) {
  const customer = await seedCustomer(h.db);
  const from = await seedPlan(h.db, { amount: amounts.from, currency, interval: 'month' });
  const to = await seedPlan(h.db, { amount: amounts.to, currency, interval: 'month' });
  const created = await startSubscription(
    h.db,
    h.registry,
    { customer_id: customer.id, plan_code: from.code, payment_method: 'pm_card_ok' },
    { now: h.clock.now() },
  );
  await quiesce(h);
  return { customer, from, to, subscription: created.record };
}

async function planChangeRuns(h: BillingHarness, subscriptionId: string) {
  const page = await listRuns(h.db, { subjectRef: subscriptionId }, { limit: 20 });
  return page.items.filter((r) => r.type === 'subscription_plan_change');
}

eachDatabase((kind) => {
  const harness = billingHarness(kind);

  test('an upgrade now: the plan switches at once, the next renewal invoice carries the proration once', async () => {
    const h = await harness;
    const start = new Date('2026-01-01T00:00:00Z');
    h.clock.set(start);
    const { customer, from, to, subscription } = await subscribed(h, 'USD', { from: 3000, to: 6000 });
    assert.equal(subscription.current_period_end.toISOString(), '2026-02-01T00:00:00.000Z');

    // Ten days in: 21 of the period's 31 days are left.
    h.clock.set(new Date(start.getTime() + 10 * DAY));
    const started = await requestPlanChange(
      h.db,
      h.registry,
      { subscription_id: subscription.id, plan_code: to.code, when: 'now', reason: 'needs more seats' },
      { now: h.clock.now() },
    );
    const credit = prorate(3000, subscription.current_period_start, subscription.current_period_end, h.clock.now());
    const charge = prorate(6000, subscription.current_period_start, subscription.current_period_end, h.clock.now());
    assert.deepEqual([credit, charge], [2032, 4064]); // 3000 × 21/31 = 2032.26, 6000 × 21/31 = 4064.52
    assert.equal(started.record.credit_amount, credit);
    assert.equal(started.record.charge_amount, charge);
    assert.equal(started.record.timing, 'now');

    await quiesce(h);
    const run = await getRun(h.db, started.runId);
    assertCompleted(run);
    assert.deepEqual(
      run.steps.map((s) => s.name),
      ['record_plan_change', 'sync_payment_provider', 'update_stats', 'send_customer_email', 'send_internal_notice'],
    );
    assert.equal((step(run, 'update_stats').output as { counted: boolean }).counted, true);
    assert.equal((step(run, 'sync_payment_provider').output as { action: string }).action, 'plan_changed');
    const [atProvider] = await rows<{ plan_code: string; amount: number }>(
      h.db,
      'SELECT plan_code, amount FROM provider_sandbox_subscriptions WHERE subscription_id = $1',
      [subscription.id],
    );
    assert.deepEqual(atProvider, { plan_code: to.code, amount: 6000 });

    const switched = await getSubscription(h.db, subscription.id);
    assert.equal(switched.plan_id, to.id);
    assert.equal(switched.amount, 6000);
    assert.equal((await assertStatsExact(h, 'USD')).mrr, 6000);
    // The run is among the subscription's runs.
    assert.deepEqual(
      (await planChangeRuns(h, subscription.id)).map((r) => r.id),
      [started.runId],
    );
    const mails = mailsTo(h, customer.email).filter((m) => /is now on/.test(m.mail.subject ?? ''));
    assert.equal(mails.length, 1);
    assert.match(mails[0]?.mail.text ?? '', /\$40\.64 for the rest of this period/);
    assert.match(mails[0]?.mail.text ?? '', /credits \$20\.32 for the unused part of/);

    // The renewal: the new plan for the next period, plus the proration lines.
    h.clock.set(new Date('2026-02-01T00:00:00Z'));
    await maintenancePass(h);
    await quiesce(h);
    await maintenancePass(h);
    await quiesce(h);
    let invoices = await listCustomerInvoices(h.db, customer.id);
    assert.equal(invoices.length, 1);
    const renewal = await getInvoice(h.db, (invoices[0] as { id: string }).id);
    assert.deepEqual(
      renewal.lines.map((l) => [l.description.replace(/ \(.*\)$/, ''), l.unit_amount, l.amount]),
      [
        [to.name, 6000, 6000],
        [`${to.name}, rest of the period`, charge, charge],
        [`Unused ${from.name}`, -credit, -credit],
      ],
    );
    assert.equal(renewal.total, 6000 + charge - credit);
    assert.equal(renewal.status, 'paid');
    const [change] = await listPlanChanges(h.db, subscription.id);
    assert.equal(change?.invoice_id, renewal.id);
    assert.equal((await assertStatsExact(h, 'USD')).mrr, 6000);

    // The period after: the plan's price only, the proration is not billed twice.
    h.clock.set(new Date('2026-03-01T00:00:00Z'));
    await maintenancePass(h);
    await quiesce(h);
    invoices = await listCustomerInvoices(h.db, customer.id);
    assert.deepEqual(
      invoices.map((i) => i.total),
      [6000, 6000 + charge - credit],
    );
    assert.equal((await assertStatsExact(h, 'USD')).mrr, 6000);
  });

  test('a downgrade at period end: nothing changes until the renewal, which applies it without proration', async () => {
    const h = await harness;
    const start = new Date('2026-05-01T00:00:00Z');
    h.clock.set(start);
    const { customer, from, to, subscription } = await subscribed(h, 'EUR', { from: 9000, to: 2500 });

    h.clock.set(new Date(start.getTime() + 5 * DAY));
    const started = await requestPlanChange(
      h.db,
      h.registry,
      { subscription_id: subscription.id, plan_code: to.code, when: 'period_end' },
      { now: h.clock.now() },
    );
    assert.equal(started.record.effective_at.toISOString(), '2026-06-01T00:00:00.000Z');
    assert.equal(started.record.applied_at, null);
    await quiesce(h);
    const run = await getRun(h.db, started.runId);
    assertCompleted(run);
    assert.equal((step(run, 'update_stats').output as { counted: boolean }).counted, false);
    let current = await getSubscription(h.db, subscription.id);
    assert.deepEqual([current.plan_id, current.amount], [from.id, 9000]);
    assert.equal((await assertStatsExact(h, 'EUR')).mrr, 9000);
    assert.deepEqual(
      (await planChangeRuns(h, subscription.id)).map((r) => r.id),
      [started.runId],
    );
    // A second change while one waits is refused, naming the field.
    await assert.rejects(
      requestPlanChange(
        h.db,
        h.registry,
        { subscription_id: subscription.id, plan_code: to.code, when: 'now' },
        { now: h.clock.now() },
      ),
      (error) => error instanceof ConflictError && error.details.field === 'plan_code',
    );

    // The stats count the new price from the day it takes effect, not before.
    h.clock.set(new Date('2026-05-31T23:00:00Z'));
    assert.equal((await assertStatsExact(h, 'EUR')).mrr, 9000);

    h.clock.set(new Date('2026-06-01T00:00:00Z'));
    await maintenancePass(h);
    await quiesce(h);
    await maintenancePass(h);
    await quiesce(h);
    current = await getSubscription(h.db, subscription.id);
    assert.deepEqual([current.plan_id, current.amount], [to.id, 2500]);
    const invoices = await listCustomerInvoices(h.db, customer.id);
    assert.equal(invoices.length, 1);
    const renewal = await getInvoice(h.db, (invoices[0] as { id: string }).id);
    assert.deepEqual(
      renewal.lines.map((l) => [l.description.replace(/ \(.*\)$/, ''), l.amount]),
      [[to.name, 2500]],
    );
    const [change] = await listPlanChanges(h.db, subscription.id);
    assert.equal(change?.applied_at?.toISOString(), '2026-06-01T00:00:00.000Z');
    assert.notEqual(change?.counted_at, null);
    assert.equal(change?.invoice_id, null);
    assert.equal((await assertStatsExact(h, 'EUR')).mrr, 2500);
  });

  test('a refused change (unknown, same, other currency or interval, cancelled) changes nothing', async () => {
    const h = await harness;
    h.clock.set(new Date('2026-09-01T00:00:00Z'));
    const { from, subscription } = await subscribed(h, 'GBP', { from: 1000, to: 2000 });
    const otherCurrency = await seedPlan(h.db, { amount: 2000, currency: 'CHF', interval: 'month' });
    const yearly = await seedPlan(h.db, { amount: 20000, currency: 'GBP', interval: 'year' });
    const snapshot = async () => ({
      subscription: await getSubscription(h.db, subscription.id),
      changes: await rows(h.db, 'SELECT * FROM subscription_plan_changes ORDER BY id'),
      runs: await rows(h.db, "SELECT id FROM workflow_runs WHERE type = 'subscription_plan_change' ORDER BY id"),
    });
    const before = await snapshot();
    const refused = async (plan_code: string, when: 'now' | 'period_end', field: string) => {
      await assert.rejects(
        requestPlanChange(
          h.db,
          h.registry,
          { subscription_id: subscription.id, plan_code, when },
          { now: h.clock.now() },
        ),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError, String(error));
          assert.deepEqual(
            error.errors.map((e) => e.field),
            [field],
            `${plan_code}/${when}`,
          );
          return true;
        },
      );
      assert.deepEqual(await snapshot(), before, `${plan_code}/${when} changed something`);
    };
    await refused('no-such-plan', 'now', 'plan_code');
    await refused(from.code, 'now', 'plan_code');
    await refused(otherCurrency.code, 'now', 'plan_code');
    await refused(yearly.code, 'period_end', 'plan_code');
    // Cancelled: the subscription's own state says no.
    await cancelSubscription(h.db, subscription.id, { mode: 'immediately' }, { at: h.clock.now() });
    const cancelled = await snapshot();
    await assert.rejects(
      requestPlanChange(
        h.db,
        h.registry,
        { subscription_id: subscription.id, plan_code: otherCurrency.code, when: 'now' },
        { now: h.clock.now() },
      ),
      (error) => error instanceof ConflictError && error.details.field === 'subscription_id',
    );
    assert.deepEqual(await snapshot(), cancelled);
  });
});
