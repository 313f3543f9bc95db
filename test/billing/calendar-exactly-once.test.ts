import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectPostgres } from '../../src/db/postgres.ts';
import { chargePeriod, renewDueSubscriptions, renewPeriod } from '../../src/billing/calendar/index.ts';
import { requestCancellation, startSubscription } from '../../src/billing/workflows/index.ts';
import { getSubscription } from '../../src/billing/records/index.ts';
import type { CollectionMethod } from '../../src/billing/records/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { seedCustomer, seedPlan } from './helpers.ts';
import { assertStatsExact, calendarDeps, maintenancePass, quiesce } from './calendar-support.ts';
import { rows } from './workflow-support.ts';

// A period is renewed once, whatever happens around it: several workers renewing at the same
// time, the clock jumping months ahead, a worker stopping between a renewal and its charge.

async function subscribe(
  h: BillingHarness,
  planCode: string,
  extra: { payment_method?: string; collection_method?: CollectionMethod } = { payment_method: 'pm_card_ok' },
) {
  const customer = await seedCustomer(h.db);
  const started = await startSubscription(
    h.db,
    h.registry,
    { customer_id: customer.id, plan_code: planCode, ...extra },
    { now: h.clock.now() },
  );
  return { customer, subscription: started.record };
}

interface PeriodRow {
  subscription_id: string;
  period_start: string;
  period_end: string;
  kind: string;
  charge_status: string;
  charge_detail: string | null;
  invoice_id: string | null;
  payment_id: string | null;
}

async function periodsOf(h: BillingHarness, subscriptionId: string): Promise<PeriodRow[]> {
  return rows<PeriodRow>(
    h.db,
    `SELECT subscription_id, to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS period_start,
       to_char(period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS period_end, kind, charge_status, charge_detail,
       invoice_id, payment_id
     FROM subscription_periods WHERE subscription_id = $1 ORDER BY period_start`,
    [subscriptionId],
  );
}

eachDatabase((kind) => {
  const harness = billingHarness(kind);

  test('periods count from the anchor: month ends stay month ends, leap days come back', async () => {
    const h = await harness;
    const next = async (anchor: string, unit: string, after: string) => {
      const [row] = await rows<{ end: Date }>(
        h.db,
        `SELECT billflow_next_period_end($1::timestamptz, $2, $3::timestamptz) AS end`,
        [anchor, unit, after],
      );
      return row?.end.toISOString().slice(0, 10);
    };
    assert.equal(await next('2026-01-31T12:00:00Z', 'month', '2026-01-31T12:00:00Z'), '2026-02-28');
    assert.equal(await next('2026-01-31T12:00:00Z', 'month', '2026-02-28T12:00:00Z'), '2026-03-31');
    assert.equal(await next('2026-01-31T12:00:00Z', 'month', '2026-03-31T12:00:00Z'), '2026-04-30');
    assert.equal(await next('2026-01-31T12:00:00Z', 'month', '2036-01-31T12:00:00Z'), '2036-02-29');
    assert.equal(await next('2024-02-29T00:00:00Z', 'year', '2025-02-28T00:00:00Z'), '2026-02-28');
    assert.equal(await next('2024-02-29T00:00:00Z', 'year', '2027-02-28T00:00:00Z'), '2028-02-29');
    assert.equal(await next('2026-01-05T00:00:00Z', 'week', '2026-01-12T00:00:00Z'), '2026-01-19');
    assert.equal(await next('2026-01-05T00:00:00Z', 'week', '2027-01-04T00:00:00Z'), '2027-01-11');
  });

  test('two workers renewing at once after a three-month clock jump: each period once, in order', async () => {
    const h = await harness;
    h.clock.set(new Date('2026-01-31T12:00:00Z'));
    const plan = await seedPlan(h.db, { amount: 1500, currency: 'EUR', interval: 'month' });
    const subscribed = [];
    for (let i = 0; i < 6; i++) subscribed.push(await subscribe(h, plan.code));
    await quiesce(h);
    // A second worker process: its own connections (one database on the embedded engine).
    const other = h.url ? connectPostgres({ connectionString: h.url, maxConnections: 5 }) : h.db;
    try {
      h.clock.set(new Date('2026-05-01T00:00:00Z'));
      await Promise.all([maintenancePass(h), maintenancePass(h, other), maintenancePass(h), maintenancePass(h, other)]);
      await maintenancePass(h, other);
      await quiesce(h);
    } finally {
      if (other !== h.db) await other.close();
    }
    for (const { subscription } of subscribed) {
      const periods = await periodsOf(h, subscription.id);
      assert.deepEqual(
        periods.map((p) => [p.period_start, p.period_end, p.kind, p.charge_status]),
        [
          ['2026-02-28', '2026-03-31', 'renewal', 'charged'],
          ['2026-03-31', '2026-04-30', 'renewal', 'charged'],
          ['2026-04-30', '2026-05-31', 'renewal', 'charged'],
        ],
      );
      const invoices = await rows<{ n: number; paid: number }>(
        h.db,
        `SELECT count(*)::int AS n, (count(*) FILTER (WHERE status = 'paid'))::int AS paid
         FROM invoices WHERE subscription_id = $1`,
        [subscription.id],
      );
      assert.deepEqual(invoices, [{ n: 3, paid: 3 }]);
      assert.equal(
        (await getSubscription(h.db, subscription.id)).current_period_end.toISOString(),
        '2026-05-31T12:00:00.000Z',
      );
    }
    const [runs] = await rows<{ invoice_runs: number; payment_runs: number; charges: number }>(
      h.db,
      `SELECT (SELECT count(*)::int FROM workflow_runs WHERE type = 'invoice_creation') AS invoice_runs,
         (SELECT count(*)::int FROM workflow_runs WHERE type = 'payment_success') AS payment_runs,
         (SELECT count(*)::int FROM provider_sandbox_charges) AS charges`,
    );
    assert.deepEqual(runs, { invoice_runs: 18, payment_runs: 18, charges: 18 });
    assert.deepEqual(await assertStatsExact(h, 'EUR'), { mrr: 6 * 1500, revenue: 18 * 1500 });
  });

  test('a worker stopping between a renewal and its charge: the next pass charges it, once', async () => {
    const h = await harness;
    h.clock.set(new Date('2026-06-01T00:00:00Z'));
    const plan = await seedPlan(h.db, { amount: 990, currency: 'GBP', interval: 'week' });
    const { subscription } = await subscribe(h, plan.code);
    await quiesce(h);
    h.clock.set(new Date('2026-06-08T00:00:00Z'));
    // The renewal commits; the worker dies before charging.
    const renewed = await renewPeriod(h.db, h.registry, subscription.id, h.clock.now());
    assert.equal(renewed?.charge_status, 'pending');
    assert.equal(await renewPeriod(h.db, h.registry, subscription.id, h.clock.now()), undefined, 'not due again');
    h.clock.advance(60_000);
    await maintenancePass(h);
    await quiesce(h);
    const [period] = await periodsOf(h, subscription.id);
    assert.equal(period?.charge_status, 'charged');
    // Charging the same period again (a slow worker waking up) finds the first charge and run.
    const again = await chargePeriod(h.db, calendarDeps(h), {
      subscription_id: subscription.id,
      period_start: renewed?.period_start as Date,
      invoice_id: renewed?.invoice_id as string,
    });
    assert.equal(again.status, 'charged');
    assert.equal(again.status === 'charged' && again.payment_id, period?.payment_id);
    const charges = await rows<{ n: number }>(
      h.db,
      `SELECT count(*)::int AS n FROM provider_sandbox_charges WHERE currency = 'GBP'`,
    );
    assert.deepEqual(charges, [{ n: 1 }]);
    await assertStatsExact(h, 'GBP');
  });

  test('not renewed: cancelled at period end; invoiced, not charged: send_invoice, no card; free: no invoice', async () => {
    const h = await harness;
    h.clock.set(new Date('2026-07-01T00:00:00Z'));
    const plan = await seedPlan(h.db, { amount: 3000, currency: 'CHF', interval: 'month' });
    const free = await seedPlan(h.db, { amount: 0, currency: 'CHF', interval: 'month' });
    const ending = await subscribe(h, plan.code);
    const invoiced = await subscribe(h, plan.code, { payment_method: 'pm_card_ok', collection_method: 'send_invoice' });
    const noCard = await subscribe(h, plan.code, {});
    const gratis = await subscribe(h, free.code);
    await requestCancellation(
      h.db,
      h.registry,
      { subscription_id: ending.subscription.id, mode: 'at_period_end', refund: 'none' },
      { now: h.clock.now() },
    );
    await quiesce(h);
    h.clock.set(new Date('2026-08-01T00:00:00Z'));
    const pass = await renewDueSubscriptions(h.db, calendarDeps(h));
    assert.deepEqual(pass.errors, []);
    await maintenancePass(h);
    await quiesce(h);

    assert.deepEqual(await periodsOf(h, ending.subscription.id), []);
    assert.equal((await getSubscription(h.db, ending.subscription.id)).status, 'cancelled');

    const [sent] = await periodsOf(h, invoiced.subscription.id);
    assert.equal(sent?.charge_status, 'skipped');
    assert.match(sent?.charge_detail ?? '', /send_invoice/);
    const [noCardPeriod] = await periodsOf(h, noCard.subscription.id);
    assert.equal(noCardPeriod?.charge_status, 'skipped');
    assert.match(noCardPeriod?.charge_detail ?? '', /no payment method on file/);
    for (const id of [sent?.invoice_id, noCardPeriod?.invoice_id]) {
      // Open, its run waiting for payment until the due date, 30 days on.
      const [invoice] = await rows<{ status: string; due: string; run: string; step: string }>(
        h.db,
        `SELECT i.status, to_char(i.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS due, r.status AS run,
           r.steps[r.step_index + 1] AS step
         FROM invoices i JOIN workflow_runs r ON r.subject_ref = i.id WHERE i.id = $1`,
        [id],
      );
      assert.deepEqual(invoice, { status: 'open', due: '2026-08-31', run: 'in_progress', step: 'await_payment' });
    }
    const [gratisPeriod] = await periodsOf(h, gratis.subscription.id);
    assert.equal(gratisPeriod?.invoice_id, null);
    assert.equal(gratisPeriod?.charge_status, 'skipped');
    const charges = await rows<{ n: number }>(
      h.db,
      `SELECT count(*)::int AS n FROM provider_sandbox_charges WHERE currency = 'CHF'`,
    );
    assert.deepEqual(charges, [{ n: 0 }]);
    await assertStatsExact(h, 'CHF');
  });
});
