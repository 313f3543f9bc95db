import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/errors.ts';
import {
  cancelSubscription,
  createChargeback,
  createCustomer,
  createInvoice,
  createReceipt,
  createRefund,
  createSubscription,
  findCustomerByEmail,
  findCustomerByProviderId,
  findInvoiceByNumber,
  findPlanByCode,
  getCustomer,
  getInvoice,
  getPayment,
  getSubscription,
  lastSucceededPayment,
  listCustomerInvoices,
  listCustomerPayments,
  listCustomerSubscriptions,
  listCustomers,
  markInvoicePaid,
  recordPayment,
  setChargebackStatus,
  setCustomerStatus,
  setRefundOutcome,
  settleSubscriptions,
  voidInvoice,
} from '../../src/billing/records/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { count, seedCustomer, seedPaidSubscription, seedPlan } from './helpers.ts';

const JAN_31 = new Date('2026-01-31T12:00:00Z');

eachDatabase((kind) => {
  test('customers and plans are written and read back, by id, email and provider id', async () => {
    const { db } = await freshDatabase(kind);
    const created = await createCustomer(db, {
      email: 'Ada@Example.com',
      name: 'Ada',
      locale: 'pt-BR',
      provider_customer_id: 'cus_Stripe1',
    });
    assert.match(created.id, /^cus_[0-9a-f]{28}$/);
    assert.equal(created.status, 'new');
    assert.equal(created.currency, null);
    assert.deepEqual(await getCustomer(db, created.id), created);
    assert.equal((await findCustomerByEmail(db, 'ada@example.COM'))?.id, created.id);
    assert.equal((await findCustomerByProviderId(db, 'cus_Stripe1'))?.id, created.id);
    // The same provider customer arriving again is the same customer, not a second one.
    const again = await createCustomer(db, { email: 'other@example.com', provider_customer_id: 'cus_Stripe1' });
    assert.equal(again.id, created.id);
    assert.equal(await count(db, 'customers'), 1);
    assert.equal((await setCustomerStatus(db, created.id, 'disabled')).status, 'disabled');
    await assert.rejects(getCustomer(db, 'cus_missing'), NotFoundError);

    const plan = await seedPlan(db, { amount: 4900, interval: 'year', code: 'pro-yearly' });
    assert.match(plan.id, /^plan_/);
    assert.deepEqual(await findPlanByCode(db, 'pro-yearly'), plan);
    assert.equal(plan.amount, 4900);
    await assert.rejects(seedPlan(db, { code: 'pro-yearly' }), ConflictError);

    const more = await Promise.all([seedCustomer(db), seedCustomer(db), seedCustomer(db)]);
    const page1 = await listCustomers(db, { limit: 2 });
    const page2 = await listCustomers(db, { limit: 2, before: page1[1]?.id });
    assert.deepEqual(
      [...page1, ...page2].map((c) => c.id),
      [...more.map((c) => c.id), created.id].sort().reverse(),
    );
  });

  test('a subscription copies its price, trials, and ends its first period a calendar interval later', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const monthly = await seedPlan(db, { amount: 2000, interval: 'month' });
    const sub = await createSubscription(db, { customer_id: customer.id, plan_code: monthly.code }, { at: JAN_31 });
    assert.equal(sub.status, 'active');
    assert.equal(sub.amount, 2000);
    assert.equal(sub.currency, 'USD');
    assert.equal(sub.interval, 'month');
    assert.equal(sub.current_period_start.toISOString(), '2026-01-31T12:00:00.000Z');
    assert.equal(sub.current_period_end.toISOString(), '2026-02-28T12:00:00.000Z');
    assert.equal((await getCustomer(db, customer.id)).currency, 'USD');

    const trial = await seedPlan(db, { amount: 500, interval: 'week', trial_days: 14 });
    const trialing = await createSubscription(db, { customer_id: customer.id, plan_code: trial.code }, { at: JAN_31 });
    assert.equal(trialing.status, 'trialing');
    assert.equal(trialing.trial_end?.toISOString(), '2026-02-14T12:00:00.000Z');
    assert.equal(trialing.current_period_end.toISOString(), '2026-02-14T12:00:00.000Z');

    const listed = await listCustomerSubscriptions(db, customer.id);
    assert.deepEqual(
      listed.map((s) => s.id),
      [trialing.id, sub.id],
    );

    // Once the trial is over it is written down as active, its first paid period starting then.
    const settled = await settleSubscriptions(db, new Date('2026-02-15T00:00:00Z'));
    assert.deepEqual(
      settled.map((s) => [s.id, s.status, s.current_period_end.toISOString()]),
      [[trialing.id, 'active', '2026-02-21T12:00:00.000Z']],
    );

    // A provider's subscription seen twice is one subscription.
    const fromProvider = { customer_id: customer.id, plan_code: monthly.code, provider_subscription_id: 'sub_S1' };
    const first = await createSubscription(db, fromProvider);
    assert.equal((await createSubscription(db, fromProvider)).id, first.id);
    // Another currency than the customer's is refused, naming the plan.
    const euro = await seedPlan(db, { currency: 'EUR' });
    await assert.rejects(
      createSubscription(db, { customer_id: customer.id, plan_code: euro.code }),
      (e: unknown) => e instanceof InvalidInputError && e.errors[0]?.field === 'plan_code',
    );
  });

  test('cancellation at period end, instantly and on a date; a second cancellation is a conflict', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const plan = await seedPlan(db);
    const make = () => createSubscription(db, { customer_id: customer.id, plan_code: plan.code }, { at: JAN_31 });
    const requested = new Date('2026-02-10T00:00:00Z');

    const atEnd = await cancelSubscription(db, (await make()).id, { mode: 'at_period_end' }, { at: requested });
    assert.equal(atEnd.status, 'cancel_scheduled');
    assert.equal(atEnd.cancel_at?.toISOString(), '2026-02-28T12:00:00.000Z');
    assert.equal(atEnd.cancelled_at, null);

    const now = await cancelSubscription(
      db,
      (await make()).id,
      { mode: 'immediately', reason: 'asked' },
      { at: requested },
    );
    assert.equal(now.status, 'cancelled');
    assert.equal(now.cancelled_at?.toISOString(), requested.toISOString());
    assert.equal(now.cancel_reason, 'asked');

    const onDate = await cancelSubscription(
      db,
      (await make()).id,
      { mode: 'on_date', cancel_at: '2026-02-20T00:00:00Z' },
      { at: requested },
    );
    assert.equal(onDate.status, 'cancel_scheduled');
    await assert.rejects(cancelSubscription(db, onDate.id, { mode: 'immediately' }), ConflictError);
    await assert.rejects(cancelSubscription(db, 'sub_missing', { mode: 'immediately' }), NotFoundError);

    const settled = await settleSubscriptions(db, new Date('2026-02-21T00:00:00Z'));
    assert.deepEqual(
      settled.map((s) => [s.id, s.status]),
      [[onDate.id, 'cancelled']],
    );
    assert.equal((await getSubscription(db, onDate.id)).cancelled_at?.toISOString(), '2026-02-20T00:00:00.000Z');
  });

  test('invoices: lines and total, readable numbers, paid once, void only when open', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const invoice = await db.transaction((tx) =>
      createInvoice(
        tx,
        {
          customer_id: customer.id,
          currency: 'EUR',
          lines: [
            { description: 'Seats', quantity: 3, unit_amount: 1500 },
            { description: 'Setup', quantity: 1, unit_amount: 999 },
          ],
        },
        { at: JAN_31 },
      ),
    );
    assert.match(invoice.id, /^inv_/);
    assert.equal(invoice.number, 'INV-000001');
    assert.equal(invoice.total, 5499);
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.due_at.toISOString(), '2026-03-02T12:00:00.000Z'); // 30 days
    assert.deepEqual(await getInvoice(db, invoice.id), invoice);
    assert.deepEqual(await findInvoiceByNumber(db, 'INV-000001'), invoice);
    assert.deepEqual(
      invoice.lines.map((l) => l.amount),
      [4500, 999],
    );

    const paid = await markInvoicePaid(db, invoice.id, { at: new Date('2026-02-01T00:00:00Z') });
    assert.equal(paid.status, 'paid');
    const paidAgain = await markInvoicePaid(db, invoice.id);
    assert.equal(paidAgain.paid_at?.toISOString(), '2026-02-01T00:00:00.000Z');
    await assert.rejects(voidInvoice(db, invoice.id), ConflictError);

    const second = await db.transaction((tx) =>
      createInvoice(tx, {
        customer_id: customer.id,
        currency: 'EUR',
        due_at: '2026-02-15T00:00:00Z',
        provider_invoice_id: 'in_1',
        lines: [{ description: 'Extra', quantity: 1, unit_amount: 100 }],
      }),
    );
    assert.equal(second.number, 'INV-000002');
    const duplicate = await db.transaction((tx) =>
      createInvoice(tx, {
        customer_id: customer.id,
        currency: 'EUR',
        provider_invoice_id: 'in_1',
        lines: [{ description: 'Extra', quantity: 1, unit_amount: 100 }],
      }),
    );
    assert.equal(duplicate.id, second.id);
    assert.equal((await voidInvoice(db, second.id)).status, 'void');
    await assert.rejects(markInvoicePaid(db, second.id), ConflictError);
    assert.deepEqual(
      (await listCustomerInvoices(db, customer.id)).map((i) => i.number),
      ['INV-000002', 'INV-000001'],
    );
  });

  test('payments, receipts, refunds and chargebacks', async () => {
    const { db } = await freshDatabase(kind);
    const { customer, subscription, paymentId } = await seedPaidSubscription(db, { amount: 3000 });
    const payment = await getPayment(db, paymentId);
    assert.equal(payment.status, 'succeeded');
    assert.equal(payment.refunded_amount, 0);
    assert.equal((await lastSucceededPayment(db, subscription.id))?.id, paymentId);

    const failed = await recordPayment(db, {
      customer_id: customer.id,
      amount: 3000,
      currency: 'USD',
      status: 'failed',
      failure_code: 'insufficient_funds',
      provider_reference: 'pi_1',
    });
    assert.equal(failed.failure_code, 'insufficient_funds');
    // The same provider payment reported twice is one payment; with other facts, a conflict.
    const twice = { customer_id: customer.id, amount: 3000, currency: 'USD', provider_reference: 'pi_1' } as const;
    assert.equal((await recordPayment(db, { ...twice, status: 'failed', failure_code: 'x' })).id, failed.id);
    await assert.rejects(recordPayment(db, { ...twice, status: 'succeeded' }), ConflictError);
    const retry = await recordPayment(db, {
      ...twice,
      provider_reference: 'pi_2',
      status: 'succeeded',
      retry_of: failed.id,
    });
    assert.equal(retry.retry_of, failed.id);
    assert.deepEqual(
      (await listCustomerPayments(db, customer.id)).map((p) => p.id),
      [retry.id, failed.id, paymentId],
    );

    const receipt = await db.transaction((tx) => createReceipt(tx, paymentId));
    assert.match(receipt.number, /^RCPT-000001$/);
    assert.deepEqual(await db.transaction((tx) => createReceipt(tx, paymentId)), receipt);
    await assert.rejects(
      db.transaction((tx) => createReceipt(tx, failed.id)),
      (e: unknown) => e instanceof InvalidInputError && e.errors[0]?.field === 'payment_id',
    );

    const refund = await db.transaction((tx) => createRefund(tx, { payment_id: paymentId, amount: 1000, reason: 'x' }));
    assert.match(refund.id, /^re_/);
    assert.equal(refund.status, 'pending');
    assert.equal((await getPayment(db, paymentId)).refunded_amount, 1000);
    await assert.rejects(
      db.transaction((tx) => createRefund(tx, { payment_id: paymentId, amount: 2001 })),
      (e: unknown) => e instanceof InvalidInputError && e.errors[0]?.field === 'amount',
    );
    // A failed refund gives its amount back; the rest can then be refunded in one go.
    await setRefundOutcome(db, refund.id, { status: 'failed', failure_reason: 'card closed' });
    await assert.rejects(setRefundOutcome(db, refund.id, { status: 'succeeded' }), ConflictError);
    const rest = await db.transaction((tx) => createRefund(tx, { payment_id: paymentId, provider_reference: 're_S1' }));
    assert.equal(rest.amount, 3000);
    assert.equal(
      (await db.transaction((tx) => createRefund(tx, { payment_id: paymentId, provider_reference: 're_S1' }))).id,
      rest.id,
    );
    assert.equal((await setRefundOutcome(db, rest.id, { status: 'succeeded' })).status, 'succeeded');
    assert.equal((await getPayment(db, paymentId)).refunded_amount, 3000);

    const dispute = await createChargeback(db, {
      payment_id: retry.id,
      reason: 'fraudulent',
      provider_reference: 'dp_1',
    });
    assert.match(dispute.id, /^cb_/);
    assert.equal(dispute.amount, 3000);
    assert.equal(dispute.status, 'needs_response');
    assert.equal((await createChargeback(db, { payment_id: retry.id, provider_reference: 'dp_1' })).id, dispute.id);
    assert.equal((await setChargebackStatus(db, dispute.id, 'lost')).status, 'lost');
  });

  test('concurrent refunds of one payment never add up to more than was paid', async () => {
    const { db } = await freshDatabase(kind);
    const { paymentId } = await seedPaidSubscription(db, { amount: 1000 });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => db.transaction((tx) => createRefund(tx, { payment_id: paymentId, amount: 300 }))),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal((await getPayment(db, paymentId)).refunded_amount, 900);
    assert.equal(await count(db, 'refunds'), 3);
  });
});
