import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors.ts';
import type { Queryable } from '../../src/db/types.ts';
import {
  createChargeback,
  createInvoice,
  createRefund,
  createSubscription,
  getCustomer,
  parseCustomerInput,
  parsePlanInput,
  recordPayment,
  setCustomerStatus,
} from '../../src/billing/records/index.ts';
import { parseChargebackRunInput } from '../../src/billing/workflows/chargeback-creation/input.ts';
import { parseInvoiceRunInput } from '../../src/billing/workflows/invoice-creation/input.ts';
import { parseRefundRunInput } from '../../src/billing/workflows/refund-creation/input.ts';
import { paymentRunInputParser } from '../../src/billing/workflows/shared/payment-input.ts';
import { parseCancellationRunInput } from '../../src/billing/workflows/subscription-cancellation/input.ts';
import { parseSubscriptionRunInput } from '../../src/billing/workflows/subscription-creation/input.ts';
import { parsePlanChangeRunInput } from '../../src/billing/workflows/subscription-plan-change/input.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { seedCustomer, seedPaidSubscription, seedPlan } from './helpers.ts';

/** The fields an InvalidInputError names, in order. */
async function badFields(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.errors.map((e) => e.field);
    throw error;
  }
  assert.fail('expected an InvalidInputError');
}

const TABLES = [
  'customers',
  'plans',
  'subscriptions',
  'invoices',
  'invoice_lines',
  'payments',
  'refunds',
  'chargebacks',
];

async function rowCounts(q: Queryable): Promise<Record<string, number>> {
  const { rows } = await q.query<Record<string, number>>(
    `SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')},
       (SELECT sum(last_value)::int FROM document_counters) AS numbers_used`,
  );
  return rows[0] as Record<string, number>;
}

test('an input the API already checked skips the schema check and keeps the rules a schema cannot say', async () => {
  const failed = paymentRunInputParser('failed');
  const input = { payment_id: 'pay_1', customer_id: 'cus_1', amount: 1, currency: 'eur', status: 'failed' };
  // Checked: the schema is not run again (a missing failure_code is a rule, not the schema's).
  assert.deepEqual(await badFields(() => failed({ ...input }, true)), ['failure_code']);
  assert.equal(failed({ ...input, failure_code: 'card_declined' }, true).currency, 'EUR');
  // Not checked (a start from code): the schema names the unknown field first.
  assert.deepEqual(await badFields(() => failed({ ...input, extra: 1 }, false)), ['extra']);
  // Only `true` counts: a parser given to Array#map gets an index, never a pass.
  const loose = failed as (raw: unknown, checked: unknown) => unknown;
  assert.deepEqual(await badFields(() => loose({ ...input, failure_code: 'x', extra: 1 }, 1)), ['extra']);
});

test('parsing names every bad field with the API’s snake_case names', async () => {
  const named = async (fn: () => unknown) => [...new Set(await badFields(fn))].sort();
  assert.deepEqual(await named(() => parseCustomerInput({ email: 'x', locale: 'English!', currency: 'usdollar' })), [
    'currency',
    'email',
    'locale',
  ]);
  assert.deepEqual(await named(() => parsePlanInput({ code: 'has space', amount: -1, interval: 'day' })), [
    'amount',
    'code',
    'currency',
    'interval',
    'name',
  ]);
  // A currency of three letters the runtime does not know, after the schema: named too.
  assert.deepEqual(await badFields(() => parseCustomerInput({ email: 'a@example.com', currency: 'XYZ' })), [
    'currency',
  ]);
  assert.equal(parseCustomerInput({ email: 'a@example.com', currency: 'eur' }).currency, 'EUR');
});

// A run's input is checked against its type's schema when the run starts (whoever starts it: the
// API, a provider event, a trigger, the calendar), then for what a schema cannot say.
test('a run’s input names every bad field; what a schema cannot say is checked after it', async () => {
  const failed = paymentRunInputParser('failed');
  const succeeded = paymentRunInputParser('succeeded');
  assert.deepEqual(
    await badFields(() =>
      parseSubscriptionRunInput({ subscription_id: 'sub_1', customer_id: 'sub_1', trial_days: 1.5 }),
    ),
    ['plan_code', 'customer_id', 'trial_days'],
  );
  assert.deepEqual(
    await badFields(() =>
      parseInvoiceRunInput({
        invoice_id: 'inv_1',
        customer_id: 'cus_1',
        currency: 'EUR',
        lines: [
          { description: 'ok', unit_amount: 100 },
          { description: '', unit_amount: '100' },
          { description: 'many', quantity: 0, unit_amount: 1 },
        ],
        due_at: 'soon',
      }),
    ),
    ['lines[1].description', 'lines[1].unit_amount', 'lines[2].quantity', 'due_at'],
  );
  const invoice = { invoice_id: 'inv_1', customer_id: 'cus_1', currency: 'EUR' };
  assert.deepEqual(await badFields(() => parseInvoiceRunInput({ ...invoice, lines: [] })), ['lines']);
  assert.deepEqual(
    await badFields(() =>
      parseInvoiceRunInput({
        ...invoice,
        lines: [{ description: 'a', unit_amount: 1 }],
        period_start: '2026-01-01T00:00:00Z',
      }),
    ),
    ['period_end'],
  );
  // Normalized as later steps read it: the currency upper-cased, a timestamp in UTC, a quantity of 1.
  assert.deepEqual(
    parseInvoiceRunInput({
      ...invoice,
      currency: 'eur',
      lines: [{ description: 'a', unit_amount: 5 }],
      due_at: '2026-01-01T02:00:00+02:00',
    }),
    { ...invoice, lines: [{ description: 'a', unit_amount: 5, quantity: 1 }], due_at: '2026-01-01T00:00:00.000Z' },
  );
  const payment = { payment_id: 'pay_1', customer_id: 'cus_1', amount: 100, currency: 'USD' };
  assert.deepEqual(await badFields(() => failed({ ...payment, amount: 0, status: 'failed' })), ['amount']);
  assert.deepEqual(await badFields(() => failed({ ...payment, status: 'failed' })), ['failure_code']);
  assert.deepEqual(await badFields(() => succeeded({ ...payment, amount: 10.5, status: 'ok', failure_code: 'x' })), [
    'amount',
    'status',
  ]);
  assert.deepEqual(
    await badFields(() => succeeded({ ...payment, currency: 'XXQ', status: 'failed', failure_code: 'x' })),
    ['currency', 'status'],
  );
  assert.deepEqual(await badFields(() => parseRefundRunInput({ refund_id: 're_1', payment_id: 'inv_1', amount: 0 })), [
    'payment_id',
    'amount',
  ]);
  assert.deepEqual(
    await badFields(() => parseChargebackRunInput({ chargeback_id: 'cb_1', payment_id: 'pay_1', status: 'open' })),
    ['status'],
  );
  assert.deepEqual(
    await badFields(() => parseCancellationRunInput({ subscription_id: 'sub_1', mode: 'on_date', refund: 'half' })),
    ['refund'],
  );
  assert.deepEqual(await badFields(() => parseCancellationRunInput({ subscription_id: 'sub_1', mode: 'on_date' })), [
    'cancel_at',
  ]);
  assert.deepEqual(parseCancellationRunInput({ subscription_id: 'sub_1' }), {
    subscription_id: 'sub_1',
    mode: 'at_period_end',
    refund: 'none',
  });
  assert.deepEqual(
    await badFields(() =>
      parsePlanChangeRunInput({ plan_change_id: 'pch_1', subscription_id: 'sub_1', plan_code: 'x', when: 'tomorrow' }),
    ),
    ['when'],
  );
  // Only Billflow sets a run's origin, and a run's input has no field its schema does not name.
  assert.deepEqual(
    await badFields(() =>
      parseRefundRunInput({
        refund_id: 're_1',
        payment_id: 'pay_1',
        origin: { provider: 'paypal', event_id: '' },
        x: 1,
      }),
    ),
    ['x', 'origin.provider', 'origin.event_id'],
  );
});

eachDatabase((kind) => {
  test('references that do not hold are refused, naming the field, before anything is written', async () => {
    const { db } = await freshDatabase(kind);
    const { customer, subscription, paymentId } = await seedPaidSubscription(db, { currency: 'EUR' });
    const stranger = await seedCustomer(db);
    const disabled = await seedCustomer(db);
    await setCustomerStatus(db, disabled.id, 'disabled');
    const plan = await seedPlan(db, { currency: 'USD' });
    const before = await rowCounts(db);
    const inTx = (fn: (tx: Queryable) => Promise<unknown>) => badFields(() => db.transaction(fn));

    assert.deepEqual(await inTx((tx) => createSubscription(tx, { customer_id: 'cus_nobody', plan_code: plan.code })), [
      'customer_id',
    ]);
    assert.deepEqual(await inTx((tx) => createSubscription(tx, { customer_id: stranger.id, plan_code: 'nope' })), [
      'plan_code',
    ]);
    assert.deepEqual(await inTx((tx) => createSubscription(tx, { customer_id: disabled.id, plan_code: plan.code })), [
      'customer_id',
    ]);
    // The customer is billed in EUR: a USD plan is refused.
    assert.deepEqual(await inTx((tx) => createSubscription(tx, { customer_id: customer.id, plan_code: plan.code })), [
      'plan_code',
    ]);
    const line = { description: 'x', quantity: 1, unit_amount: 1 };
    assert.deepEqual(
      await inTx((tx) =>
        createInvoice(tx, {
          customer_id: stranger.id,
          subscription_id: subscription.id,
          currency: 'EUR',
          lines: [line],
        }),
      ),
      ['subscription_id'],
    );
    assert.deepEqual(
      await inTx((tx) =>
        createInvoice(tx, {
          customer_id: customer.id,
          subscription_id: subscription.id,
          currency: 'USD',
          lines: [line],
        }),
      ),
      ['currency'],
    );
    assert.deepEqual(
      await inTx((tx) =>
        recordPayment(tx, {
          customer_id: stranger.id,
          subscription_id: subscription.id,
          retry_of: paymentId,
          amount: 100,
          currency: 'EUR',
          status: 'succeeded',
        }),
      ),
      ['subscription_id', 'retry_of'],
    );
    assert.deepEqual(await inTx((tx) => createRefund(tx, { payment_id: 'pay_nothing' })), ['payment_id']);
    assert.deepEqual(await inTx((tx) => createRefund(tx, { payment_id: paymentId, amount: 1_000_000 })), ['amount']);
    assert.deepEqual(await inTx((tx) => createChargeback(tx, { payment_id: paymentId, amount: 1_000_000 })), [
      'amount',
    ]);

    assert.deepEqual(await rowCounts(db), before);
    // The stranger's currency was not claimed by the refused records either.
    assert.equal((await getCustomer(db, stranger.id)).currency, null);
  });
});
