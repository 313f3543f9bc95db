import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { cancelSubscription, createSubscription, recordPayment } from '../../src/billing/records/index.ts';
import type { Interval } from '../../src/billing/records/index.ts';
import {
  annualAmount,
  countPayment,
  countSubscriptionCancelled,
  countSubscriptionCreated,
  recurringRevenue,
  statsSummary,
  timeseries,
} from '../../src/billing/stats/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { seedCustomer, seedPlan } from './helpers.ts';

const START = new Date('2026-03-02T09:00:00Z');
const NOW = new Date('2026-03-20T09:00:00Z');

async function subscribe(db: Db, amount: number, interval: Interval, currency: string, trialDays = 0) {
  const customer = await seedCustomer(db);
  const plan = await seedPlan(db, { amount, interval, currency, trial_days: trialDays });
  const subscription = await createSubscription(db, { customer_id: customer.id, plan_code: plan.code }, { at: START });
  await db.transaction((tx) => countSubscriptionCreated(tx, subscription.id));
  return subscription;
}

eachDatabase((kind) => {
  test('MRR and ARR: monthly as is, weekly × 52/12, yearly / 12, rounded once per currency', async () => {
    const { db } = await freshDatabase(kind);
    await subscribe(db, 1000, 'month', 'USD');
    await subscribe(db, 1000, 'week', 'EUR');
    await subscribe(db, 1000, 'year', 'GBP');
    // Three weekly plans of 1 yen: 156 a year, 13 a month — not 3 × round(4.33) = 12.
    for (let i = 0; i < 3; i++) await subscribe(db, 1, 'week', 'JPY');
    // Not paying now: a trial, a cancellation that took effect, a start in the future.
    await subscribe(db, 5000, 'month', 'USD', 30);
    const gone = await subscribe(db, 7000, 'month', 'USD');
    await cancelSubscription(db, gone.id, { mode: 'on_date', cancel_at: '2026-03-10T00:00:00Z' }, { at: START });
    await db.transaction((tx) => countSubscriptionCancelled(tx, gone.id));
    // Still paying until its period ends: a cancellation scheduled for later.
    const leaving = await subscribe(db, 200, 'month', 'USD');
    await cancelSubscription(db, leaving.id, { mode: 'at_period_end' }, { at: NOW });
    await db.transaction((tx) => countSubscriptionCancelled(tx, leaving.id));

    const live = await recurringRevenue(db, NOW);
    assert.deepEqual(live, [
      { currency: 'EUR', mrr: 4333, arr: 52000, active_subscriptions: 1, trialing_subscriptions: 0 },
      { currency: 'GBP', mrr: 83, arr: 1000, active_subscriptions: 1, trialing_subscriptions: 0 },
      { currency: 'JPY', mrr: 13, arr: 156, active_subscriptions: 3, trialing_subscriptions: 0 },
      { currency: 'USD', mrr: 1200, arr: 14400, active_subscriptions: 2, trialing_subscriptions: 1 },
    ]);
    assert.equal(annualAmount(1000, 'week'), 52000);

    // The daily counters tell the same story for today as the subscriptions themselves.
    const today = NOW.toISOString().slice(0, 10);
    for (const metric of ['mrr', 'arr', 'subscriptions_active'] as const) {
      const ts = await timeseries(db, metric, today, today);
      const fromCounters = Object.fromEntries(ts.series.map((s) => [s.currency, s.points[0]?.value]));
      const key = metric === 'subscriptions_active' ? 'active_subscriptions' : metric;
      assert.deepEqual(fromCounters, Object.fromEntries(live.map((r) => [r.currency, r[key]])), metric);
    }
    // When the trial ends (Apr 1) MRR rises by its 5000; when the leaving one ends (Apr 2) it falls by 200.
    const april = await timeseries(db, 'mrr', '2026-04-01', '2026-04-02', { currency: 'USD' });
    assert.deepEqual(april.series, [
      {
        currency: 'USD',
        points: [
          { day: '2026-04-01', value: 6200 },
          { day: '2026-04-02', value: 6000 },
        ],
      },
    ]);
  });

  test('the summary: recurring revenue now, flow totals per currency, customers per status', async () => {
    const { db } = await freshDatabase(kind);
    const sub = await subscribe(db, 2500, 'month', 'EUR');
    const paid = await recordPayment(
      db,
      { customer_id: sub.customer_id, amount: 2500, currency: 'EUR', status: 'succeeded' },
      { at: START },
    );
    await db.transaction((tx) => countPayment(tx, paid.id));
    await seedCustomer(db);
    const summary = await statsSummary(db, { now: NOW });
    assert.equal(summary.active_subscriptions, 1);
    assert.equal(summary.since, null);
    assert.deepEqual(summary.currencies, [
      {
        currency: 'EUR',
        mrr: 2500,
        arr: 30000,
        active_subscriptions: 1,
        trialing_subscriptions: 0,
        revenue: 2500,
        refunds: 0,
        chargebacks: 0,
        net_revenue: 2500,
        payment_failures: 0,
        subscriptions_created: 1,
        subscriptions_cancelled: 0,
      },
    ]);
    // Customer statuses are the stored ones (refreshing them is the stats step's job).
    assert.equal(summary.customers.new, 2);
    const later = await statsSummary(db, { now: NOW, since: new Date('2026-03-03T00:00:00Z') });
    assert.equal(later.currencies[0]?.revenue, 0);
  });

  test('a time series refuses an unknown metric or a bad range, naming the field', async () => {
    const { db } = await freshDatabase(kind);
    const field = (e: unknown) => (e as { errors?: { field: string }[] }).errors?.[0]?.field;
    await assert.rejects(timeseries(db, 'visits' as never, '2026-01-01', '2026-01-02'), (e) => field(e) === 'metric');
    await assert.rejects(timeseries(db, 'revenue', '2026-13-01', '2026-01-02'), (e) => field(e) === 'from');
    await assert.rejects(timeseries(db, 'revenue', '2026-01-02', '2026-01-01'), (e) => field(e) === 'to');
    await assert.rejects(timeseries(db, 'revenue', '2000-01-01', '2026-01-01'), (e) => field(e) === 'to');
    assert.deepEqual((await timeseries(db, 'revenue', '2026-01-01', '2026-01-31')).series, []);
  });
});
