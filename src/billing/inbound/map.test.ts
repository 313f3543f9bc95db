import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stripeEvent, withObject } from '../../../test/fixtures/stripe-events/events.ts';
import type { FixtureName } from '../../../test/fixtures/stripe-events/events.ts';
import { mapStripeEvent } from './map.ts';
import type { StripeIntent } from './map.ts';

const map = (name: FixtureName, fields?: Record<string, unknown>) =>
  mapStripeEvent(fields ? withObject(stripeEvent(name), fields) : stripeEvent(name));

function expectKind<K extends StripeIntent['kind']>(intent: StripeIntent, kind: K): Extract<StripeIntent, { kind: K }> {
  assert.equal(intent.kind, kind, JSON.stringify(intent));
  return intent as Extract<StripeIntent, { kind: K }>;
}

describe('mapStripeEvent', () => {
  it('maps the three success events of one payment to one payment_success key', () => {
    const intents = (['payment_intent.succeeded', 'charge.succeeded', 'invoice.payment_succeeded'] as const).map((n) =>
      expectKind(map(n), 'payment'),
    );
    for (const intent of intents) {
      assert.equal(intent.runType, 'payment_success');
      assert.equal(intent.idempotencyKey, 'stripe:pi_3TbfwAcme0001:payment_success');
      assert.equal(intent.reference, 'pi_3TbfwAcme0001');
      assert.equal(intent.status, 'succeeded');
      assert.equal(intent.amount, 4900);
      assert.equal(intent.currency, 'EUR');
      assert.equal(intent.customer.providerId, 'cus_TbfwAcme0001');
      assert.equal(intent.customer.email, 'ada@example.com');
    }
    assert.equal(intents[1]?.customer.name, 'Ada Lovelace');
    assert.equal(intents[2]?.providerInvoiceId, 'in_1TbfwAcme0001');
    assert.equal(intents[2]?.providerSubscriptionId, 'sub_1TbfwAcme0001');
  });

  it('maps the failure events of one attempt to one payment_failure key, with the decline code', () => {
    const intents = (['payment_intent.payment_failed', 'charge.failed', 'invoice.payment_failed'] as const).map((n) =>
      expectKind(map(n), 'payment'),
    );
    for (const intent of intents) {
      assert.equal(intent.runType, 'payment_failure');
      // One failure per charge: an intent may fail several times before it succeeds.
      assert.equal(intent.idempotencyKey, 'stripe:ch_3TbfwAcme0001:payment_failure');
      assert.equal(intent.reference, 'ch_3TbfwAcme0001');
      assert.equal(intent.amount, 4900);
    }
    assert.equal(intents[0]?.failureCode, 'insufficient_funds');
    assert.equal(intents[1]?.failureCode, 'insufficient_funds');
    assert.equal(intents[1]?.failureMessage, 'Your card has insufficient funds.');
    assert.equal(intents[2]?.failureCode, 'invoice_payment_failed');
  });

  it('maps refund.created and charge.refunded of one refund to one refund_creation key', () => {
    for (const name of ['refund.created', 'charge.refunded'] as const) {
      const intent = expectKind(map(name), 'refund');
      assert.equal(intent.idempotencyKey, 'stripe:re_3TbfwAcme0001:refund_creation');
      assert.deepEqual(intent.paymentIds, ['pi_3TbfwAcme0001', 'ch_3TbfwAcme0001']);
      assert.equal(intent.amount, 1000);
      assert.equal(intent.reason, 'requested by customer');
    }
  });

  it('leaves to refund.created a charge.refunded without its refund list (newer API versions)', () => {
    const intent = expectKind(map('charge.refunded', { refunds: undefined }), 'ignore');
    assert.match(intent.detail, /refund\.created/);
  });

  it('leaves to the intent an invoice event that names no payment intent (API 2025-03-31+)', () => {
    const intent = expectKind(
      map('invoice.payment_succeeded', { payment_intent: undefined, charge: undefined }),
      'ignore',
    );
    assert.match(intent.detail, /payment_intent/);
  });

  it('ignores payments of 0 and objects Billflow made itself', () => {
    assert.equal(map('invoice.payment_succeeded', { amount_paid: 0 }).kind, 'ignore');
    assert.equal(
      map('payment_intent.succeeded', { metadata: { billflow_key: 'run_1:record_payment' } }).kind,
      'ignore',
    );
    assert.equal(map('refund.created', { metadata: { billflow_key: 'run_2:execute_provider_refund' } }).kind, 'ignore');
    const sub = map('customer.subscription.created', { metadata: { billflow_subscription_id: 'sub_ours' } });
    assert.equal(sub.kind, 'ignore');
  });

  it('maps a dispute to a chargeback of its payment', () => {
    const intent = expectKind(map('charge.dispute.created'), 'chargeback');
    assert.equal(intent.idempotencyKey, 'stripe:du_1TbfwAcme0001:chargeback_creation');
    assert.deepEqual(intent.paymentIds, ['pi_3TbfwAcme0001', 'ch_3TbfwAcme0001']);
    assert.equal(intent.amount, 4900);
    assert.equal(intent.reason, 'fraudulent');
    assert.equal(intent.status, 'needs_response');
  });

  it('maps a subscription to a plan from its price', () => {
    const intent = expectKind(map('customer.subscription.created'), 'subscription');
    assert.equal(intent.idempotencyKey, 'stripe:sub_1TbfwAcme0001:subscription_creation');
    assert.deepEqual(intent.price, {
      priceId: 'price_1PgafmB7WZ01zgkW6dKueIc5',
      code: 'price_1PgafmB7WZ01zgkW6dKueIc5',
      name: 'Stripe price price_1PgafmB7WZ01zgkW6dKueIc5',
      amount: 2000,
      currency: 'USD',
      interval: 'month',
    });
    assert.equal(intent.trialDays, 0);
    assert.equal(intent.startedAt, new Date(1234567890 * 1000).toISOString());
  });

  it('gives a trialing subscription its trial length, and seats their own plan', () => {
    const base = stripeEvent('customer.subscription.created');
    const item = (base.data.object.items as { data: Record<string, unknown>[] }).data[0] as Record<string, unknown>;
    const start = 1767607200;
    const intent = expectKind(
      mapStripeEvent(
        withObject(base, {
          status: 'trialing',
          start_date: start,
          trial_end: start + 14 * 86400,
          items: { object: 'list', data: [{ ...item, quantity: 3 }] },
        }),
      ),
      'subscription',
    );
    assert.equal(intent.trialDays, 14);
    assert.equal(intent.price.code, 'price_1PgafmB7WZ01zgkW6dKueIc5.x3');
    assert.equal(intent.price.amount, 6000);
  });

  it('refuses subscriptions no plan can express, saying why', () => {
    const base = stripeEvent('customer.subscription.created');
    const item = (base.data.object.items as { data: Record<string, unknown>[] }).data[0] as Record<string, unknown>;
    const price = item.price as Record<string, unknown>;
    const withPrice = (p: Record<string, unknown>) =>
      mapStripeEvent(withObject(base, { items: { object: 'list', data: [{ ...item, price: { ...price, ...p } }] } }));
    const quarterly = expectKind(withPrice({ recurring: { interval: 'month', interval_count: 3 } }), 'reject');
    assert.match(quarterly.detail, /every 3 months/);
    assert.match(expectKind(withPrice({ recurring: { interval: 'day' } }), 'reject').detail, /every day/);
    const tiered = withPrice({ billing_scheme: 'tiered', unit_amount: null });
    assert.match(expectKind(tiered, 'reject').detail, /not a flat/);
    const two = mapStripeEvent(withObject(base, { items: { object: 'list', data: [item, item] } }));
    assert.match(expectKind(two, 'reject').detail, /2 items/);
  });

  it('maps a deleted subscription to an immediate cancellation, and customer.created to a customer', () => {
    const cancel = expectKind(map('customer.subscription.deleted'), 'cancellation');
    assert.equal(cancel.idempotencyKey, 'stripe:sub_1TbfwAcme0001:subscription_cancellation');
    assert.equal(cancel.reason, 'cancelled at Stripe (cancellation_requested)');
    const customer = expectKind(map('customer.created'), 'customer');
    assert.deepEqual(customer.customer, {
      providerId: 'cus_TbfwAcme0002',
      billflowId: null,
      email: 'grace@example.com',
      name: 'Grace Hopper',
    });
  });

  it('calls other types unsupported and payloads without what they need rejected', () => {
    const other = mapStripeEvent({ id: 'evt_1', type: 'payout.paid', data: { object: { id: 'po_1' } } });
    assert.equal(other.kind, 'unsupported');
    assert.equal(map('payment_intent.succeeded', { currency: 'euro' }).kind, 'reject');
    assert.equal(map('charge.dispute.created', { payment_intent: null, charge: null }).kind, 'reject');
    assert.equal(mapStripeEvent({ id: 'evt_2', type: 'charge.succeeded', data: { object: null } }).kind, 'reject');
  });

  describe('when Stripe Billing owns the calendar', () => {
    const stripe = { calendarOwner: 'stripe' as const };

    it('maps invoice.created/finalized to one invoice_creation per Stripe invoice, with its lines and links', () => {
      const finalized = stripeEvent('invoice.finalized');
      const intent = expectKind(mapStripeEvent(finalized, stripe), 'invoice');
      const created = expectKind(
        mapStripeEvent(
          {
            ...finalized,
            type: 'invoice.created',
            data: {
              object: { ...finalized.data.object, status: 'draft', hosted_invoice_url: null, invoice_pdf: null },
            },
          },
          stripe,
        ),
        'invoice',
      );
      assert.equal(intent.idempotencyKey, 'stripe:in_1TbfwAcme0001:invoice_creation');
      assert.equal(created.idempotencyKey, intent.idempotencyKey);
      assert.deepEqual(intent.lines, [
        { description: '1 × Pro (at €45.00 / month)', quantity: 1, unit_amount: 4500 },
        // Tax is outside Stripe's lines: its own line, so the total is Stripe's.
        { description: 'Taxes and discounts', quantity: 1, unit_amount: 400 },
      ]);
      assert.equal(intent.currency, 'EUR');
      assert.equal(intent.providerSubscriptionId, 'sub_1TbfwAcme0001');
      assert.equal(intent.customer.providerId, 'cus_TbfwAcme0001');
      assert.equal(intent.periodStart, new Date(1763999990 * 1000).toISOString());
      assert.equal(intent.periodEnd, new Date(1766591990 * 1000).toISOString());
      assert.equal(intent.dueAt, null);
      assert.equal(intent.hostedUrl, 'https://invoice.stripe.com/i/acct_x/test_x');
      assert.equal(intent.pdfUrl, 'https://pay.stripe.com/invoice/acct_x/test_x/pdf');
      assert.equal(created.hostedUrl, null);
    });

    it('ignores an invoice for nothing, and leaves invoice events unsupported when Billflow owns the calendar', () => {
      const free = withObject(stripeEvent('invoice.finalized'), { total: 0, amount_due: 0 });
      expectKind(mapStripeEvent(free, stripe), 'ignore');
      expectKind(mapStripeEvent(stripeEvent('invoice.finalized')), 'unsupported');
      expectKind(mapStripeEvent(stripeEvent('invoice_payment.paid')), 'unsupported');
    });

    it('maps invoice_payment.paid to the PaymentIntent’s payment_success key, and invoice.paid to ending the wait', () => {
      const paid = expectKind(mapStripeEvent(stripeEvent('invoice_payment.paid'), stripe), 'payment');
      assert.equal(paid.idempotencyKey, expectKind(map('payment_intent.succeeded'), 'payment').idempotencyKey);
      assert.equal(paid.amount, 4900);
      assert.equal(paid.providerInvoiceId, 'in_1TbfwAcme0001');
      assert.equal(paid.customer.providerId, null);
      const invoicePaid = stripeEvent('invoice.finalized');
      const basil = expectKind(mapStripeEvent({ ...invoicePaid, type: 'invoice.paid' }, stripe), 'invoice_paid');
      assert.deepEqual(basil, { kind: 'invoice_paid', invoiceId: 'in_1TbfwAcme0001', paymentIds: [] });
      const old = stripeEvent('invoice.payment_succeeded');
      const named = expectKind(mapStripeEvent({ ...old, type: 'invoice.paid' }, stripe), 'invoice_paid');
      assert.deepEqual(named.paymentIds, ['pi_3TbfwAcme0001', 'ch_3TbfwAcme0001']);
      // An expanded `payments` list (a list object) names the intent too.
      const expanded = withObject(old, {
        payment_intent: null,
        charge: null,
        payments: { object: 'list', data: [{ payment: { type: 'payment_intent', payment_intent: 'pi_x' } }] },
      });
      assert.equal(expectKind(mapStripeEvent(expanded), 'payment').idempotencyKey, 'stripe:pi_x:payment_success');
    });
  });

  it('maps customer.subscription.updated only when Stripe owns the calendar, with the period of either API shape', () => {
    const base = stripeEvent('customer.subscription.created');
    const updated = { ...base, type: 'customer.subscription.updated' };
    assert.equal(mapStripeEvent(updated).kind, 'unsupported');
    const item = { ...(base.data.object as { items: { data: Record<string, unknown>[] } }).items.data[0] };
    const itemShape = withObject(updated, {
      cancel_at_period_end: true,
      items: { object: 'list', data: [{ ...item, current_period_start: 1767225600, current_period_end: 1769904000 }] },
    });
    const fromItems = expectKind(mapStripeEvent(itemShape, { calendarOwner: 'stripe' }), 'subscription_update');
    assert.deepEqual(
      [fromItems.periodStart, fromItems.periodEnd, fromItems.cancelAtPeriodEnd],
      ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', true],
    );
    const topLevel = withObject(itemShape, { current_period_start: 1769904000, current_period_end: 1772323200 });
    const fromTop = expectKind(mapStripeEvent(topLevel, { calendarOwner: 'stripe' }), 'subscription_update');
    assert.deepEqual(
      [fromTop.periodStart, fromTop.periodEnd],
      ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    );
    // The fixture's item period ends before it starts: no usable period.
    const broken = expectKind(mapStripeEvent(updated, { calendarOwner: 'stripe' }), 'subscription_update');
    assert.deepEqual([broken.periodStart, broken.periodEnd], [null, null]);
  });
});
