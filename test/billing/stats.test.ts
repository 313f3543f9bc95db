import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../../src/db/types.ts';
import {
  cancelSubscription,
  createChargeback,
  createRefund,
  createSubscription,
  recordPayment,
  setCustomerStatus,
  settleSubscriptions,
} from '../../src/billing/records/index.ts';
import {
  compareStats,
  countChargeback,
  countPayment,
  countRefund,
  countSubscriptionCancelled,
  countSubscriptionCreated,
  recordStat,
  recordStats,
  recountStats,
  refreshCustomerStatus,
  timeseries,
} from '../../src/billing/stats/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { seedCustomer, seedPlan } from './helpers.ts';

const day = (d: string) => new Date(`${d}T12:00:00Z`);

/** A month of billing: three customers, a payment, a failure, a refund, a dispute, two cancellations. */
async function january(db: Db) {
  const a = await seedCustomer(db);
  const b = await seedCustomer(db);
  const c = await seedCustomer(db);
  const monthly = await seedPlan(db, { amount: 3000, interval: 'month' });
  const weeklyTrial = await seedPlan(db, { amount: 500, interval: 'week', trial_days: 14 });
  const monthlyTrial = await seedPlan(db, { amount: 1000, interval: 'month', trial_days: 30 });
  const subA = await createSubscription(db, { customer_id: a.id, plan_code: monthly.code }, { at: day('2026-01-05') });
  const paid = await recordPayment(
    db,
    { customer_id: a.id, subscription_id: subA.id, amount: 3000, currency: 'USD', status: 'succeeded' },
    { at: day('2026-01-05') },
  );
  const failed = await recordPayment(
    db,
    { customer_id: a.id, amount: 3000, currency: 'USD', status: 'failed', failure_code: 'insufficient_funds' },
    { at: day('2026-01-06') },
  );
  const subB = await createSubscription(
    db,
    { customer_id: b.id, plan_code: weeklyTrial.code },
    { at: day('2026-01-07') },
  );
  const subC = await createSubscription(
    db,
    { customer_id: c.id, plan_code: monthlyTrial.code },
    { at: day('2026-01-08') },
  );
  await cancelSubscription(db, subC.id, { mode: 'immediately' }, { at: day('2026-01-09') });
  const refund = await db.transaction((tx) =>
    createRefund(tx, { payment_id: paid.id, amount: 1000 }, { at: day('2026-01-10') }),
  );
  const dispute = await createChargeback(db, { payment_id: paid.id }, { at: day('2026-01-12') });
  await cancelSubscription(db, subA.id, { mode: 'at_period_end' }, { at: day('2026-01-20') });
  // Each count in its own transaction, as each stats step would.
  const counts = [
    (q: Queryable) => countSubscriptionCreated(q, subA.id),
    (q: Queryable) => countSubscriptionCreated(q, subB.id),
    (q: Queryable) => countSubscriptionCreated(q, subC.id),
    (q: Queryable) => countSubscriptionCancelled(q, subC.id),
    (q: Queryable) => countSubscriptionCancelled(q, subA.id),
    (q: Queryable) => countPayment(q, paid.id),
    (q: Queryable) => countPayment(q, failed.id),
    (q: Queryable) => countRefund(q, refund.id),
    (q: Queryable) => countChargeback(q, dispute.id),
  ];
  return { customers: { a, b, c }, subs: { subA, subB, subC }, counts };
}

async function series(db: Db, metric: Parameters<typeof timeseries>[1], from: string, to: string) {
  const result = await timeseries(db, metric, from, to);
  return Object.fromEntries(
    result.series.map((s) => [s.currency, Object.fromEntries(s.points.map((p) => [p.day, p.value]))]),
  );
}

eachDatabase((kind) => {
  test('each record is counted once, on its day, and the counters equal a recount of the records', async () => {
    const { db } = await freshDatabase(kind);
    const { counts } = await january(db);
    const before = await compareStats(db);
    assert.equal(before.equal, false);
    assert.deepEqual(before.uncounted, {
      subscription_created: 3,
      subscription_cancelled: 2,
      payment: 2,
      refund: 1,
      chargeback: 1,
      plan_change: 0,
    });
    for (const count of counts) assert.equal(await db.transaction((tx) => count(tx)), true);
    // A second stats step for the same records (a duplicate event, a re-run) adds nothing.
    for (const count of counts) assert.equal(await count(db), false);
    const after = await compareStats(db);
    assert.deepEqual(after.differences, []);
    assert.equal(after.equal, true);
    assert.ok(Object.values(after.uncounted).every((n) => n === 0));

    const flows = await series(db, 'revenue', '2026-01-05', '2026-01-06');
    assert.deepEqual(flows, { USD: { '2026-01-05': 3000, '2026-01-06': 0 } });
    assert.deepEqual((await series(db, 'payment_failures', '2026-01-06', '2026-01-06')).USD, { '2026-01-06': 1 });
    assert.deepEqual((await series(db, 'refunds', '2026-01-10', '2026-01-10')).USD, { '2026-01-10': 1000 });
    assert.deepEqual((await series(db, 'chargebacks', '2026-01-12', '2026-01-12')).USD, { '2026-01-12': 3000 });
    const created = await series(db, 'subscriptions_created', '2026-01-04', '2026-01-09');
    assert.deepEqual(Object.values(created.USD ?? {}), [0, 1, 0, 1, 1, 0]);
    const cancelled = await series(db, 'subscriptions_cancelled', '2026-01-09', '2026-01-20');
    assert.equal(
      Object.values(cancelled.USD ?? {}).reduce((s, v) => s + v, 0),
      2,
    );

    // Levels: A pays from Jan 5 until its period ends Feb 5; B from the end of its trial (Jan 21);
    // C was cancelled in its trial, so it never counts as active.
    const active = (await series(db, 'subscriptions_active', '2026-01-04', '2026-02-10')).USD ?? {};
    assert.equal(active['2026-01-04'], 0);
    assert.equal(active['2026-01-05'], 1);
    assert.equal(active['2026-01-20'], 1);
    assert.equal(active['2026-01-21'], 2);
    assert.equal(active['2026-02-04'], 2);
    assert.equal(active['2026-02-05'], 1);
    assert.equal(active['2026-02-10'], 1);
    const arr = (await series(db, 'arr', '2026-02-01', '2026-02-05')).USD ?? {};
    assert.equal(arr['2026-02-01'], 36000 + 26000);
    assert.equal(arr['2026-02-05'], 26000);
    const mrr = (await series(db, 'mrr', '2026-02-05', '2026-02-05')).USD ?? {};
    assert.equal(mrr['2026-02-05'], 2167); // 26000 / 12 = 2166.67
  });

  test('a recount rebuilds tampered counters and leaves records awaiting their stats step to it', async () => {
    const { db } = await freshDatabase(kind);
    const { counts, customers } = await january(db);
    for (const count of counts) await db.transaction((tx) => count(tx));
    await db.query(`UPDATE stats_daily SET value = value + 7 WHERE metric = 'revenue'`);
    await recordStat(db, { metric: 'refunds', currency: 'EUR', amount: 5, at: day('2026-01-01') });
    const tampered = await compareStats(db);
    assert.deepEqual(
      tampered.differences.map((d) => [d.metric, d.currency, d.day, d.counted, d.recounted]),
      [
        ['refunds', 'EUR', '2026-01-01', 5, 0],
        ['revenue', 'USD', '2026-01-05', 3007, 3000],
      ],
    );
    const late = await recordPayment(db, {
      customer_id: customers.b.id,
      amount: 500,
      currency: 'USD',
      status: 'succeeded',
    });
    await recountStats(db);
    const rebuilt = await compareStats(db);
    // Only the payment whose stats step has not run differs; that step then completes the picture.
    assert.equal(rebuilt.uncounted.payment, 1);
    assert.deepEqual(
      rebuilt.differences.map((d) => [d.metric, d.counted, d.recounted]),
      [['revenue', 0, 500]],
    );
    assert.equal(await db.transaction((tx) => countPayment(tx, late.id)), true);
    assert.equal((await compareStats(db)).equal, true);
  });

  test('concurrent stats steps neither deadlock nor lose an increment, and a record counts once', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const payments = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        recordPayment(db, {
          customer_id: customer.id,
          amount: 100 + i,
          currency: 'USD',
          status: i % 4 === 0 ? 'failed' : 'succeeded',
          failure_code: i % 4 === 0 ? 'card_declined' : undefined,
        }),
      ),
    );
    const results = await Promise.all(
      [...payments, ...payments].map((p) =>
        db.transaction(async (tx) => {
          await recordStats(tx, [
            { metric: 'subscriptions_created', currency: 'USD', amount: 1, at: new Date() },
            { metric: 'subscriptions_created', currency: 'USD', amount: 1, at: new Date() },
          ]);
          return countPayment(tx, p.id);
        }),
      ),
    );
    assert.equal(results.filter(Boolean).length, 20);
    const expected = payments.filter((p) => p.status === 'succeeded').reduce((s, p) => s + p.amount, 0);
    const today = new Date().toISOString().slice(0, 10);
    const revenue = await series(db, 'revenue', today, today);
    assert.equal(revenue.USD?.[today], expected);
    assert.equal((await series(db, 'payment_failures', today, today)).USD?.[today], 5);
    assert.equal((await series(db, 'subscriptions_created', today, today)).USD?.[today], 80);
  });

  test('the customer status follows their subscriptions', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const trial = await seedPlan(db, { trial_days: 7 });
    const plain = await seedPlan(db);
    const status = async (at: string) => (await refreshCustomerStatus(db, customer.id, day(at))).after;
    assert.equal(await status('2026-01-01'), 'new');
    const first = await createSubscription(
      db,
      { customer_id: customer.id, plan_code: trial.code },
      { at: day('2026-01-01') },
    );
    assert.equal(await status('2026-01-02'), 'trial_active');
    await settleSubscriptions(db, day('2026-01-09'));
    assert.equal(await status('2026-01-09'), 'active');
    await cancelSubscription(db, first.id, { mode: 'immediately' }, { at: day('2026-01-15') });
    assert.equal(await status('2026-01-15'), 'churned');
    await createSubscription(db, { customer_id: customer.id, plan_code: plain.code }, { at: day('2026-02-01') });
    const change = await refreshCustomerStatus(db, customer.id, day('2026-02-01'));
    assert.deepEqual(change, { customer_id: customer.id, before: 'churned', after: 'reactivated', changed: true });
    await setCustomerStatus(db, customer.id, 'disabled');
    assert.equal(await status('2026-02-02'), 'disabled');
  });

  test('recordStat refuses what is not a counter', async () => {
    const { db } = await freshDatabase(kind);
    const at = new Date();
    await assert.rejects(
      recordStat(db, { metric: 'visits' as never, currency: 'USD', amount: 1, at }),
      /unknown metric/,
    );
    await assert.rejects(recordStat(db, { metric: 'revenue', currency: 'usd', amount: 1, at }), /ISO 4217/);
    await assert.rejects(recordStat(db, { metric: 'revenue', currency: 'USD', amount: 1.5, at }), RangeError);
  });
});
