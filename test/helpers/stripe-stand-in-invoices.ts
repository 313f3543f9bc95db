// Stripe Billing's calendar in the stand-in: a subscription's cycle makes an invoice (created as
// a draft, then finalized with its hosted page and PDF), charges it with the subscription's card
// and emits what Stripe emits, in the shape of the API version the events are rendered in:
// before 2025-03-31 the invoice names its PaymentIntent (and the intent its invoice); since then
// only an invoice_payment (invoice_payment.paid) links the two.
import type { BillingState, Price } from './stripe-stand-in-billing.ts';
import { confirm } from './stripe-stand-in-payments.ts';
import type { PaymentIntent, PaymentState } from './stripe-stand-in-payments.ts';
import { ApiError } from './stripe-stand-in-state.ts';
import type { StandInState } from './stripe-stand-in-state.ts';

/** The first API version whose invoices carry their payments in `payments`. */
export const BASIL = '2025-03-31.basil';

export interface StandInInvoice {
  id: string;
  object: 'invoice';
  status: string;
  [field: string]: unknown;
}

export interface InvoiceCycle {
  invoice: StandInInvoice;
  paymentIntent: PaymentIntent;
  paid: boolean;
}

const PERIOD_SECONDS: Record<string, number> = { week: 7 * 86_400, month: 30 * 86_400, year: 365 * 86_400 };

export class InvoiceState {
  readonly invoices = new Map<string, StandInInvoice>();
}

function isBasil(state: StandInState): boolean {
  return state.apiVersion >= '2025-03-31';
}

/**
 * One cycle of a subscription at Stripe: the period moves on, its invoice is made and charged
 * with `card` (the subscription's default payment method when not given).
 */
export function renewAtStripe(
  state: StandInState,
  billing: BillingState,
  payments: PaymentState,
  invoices: InvoiceState,
  subscriptionId: string,
  options: { card?: string } = {},
): InvoiceCycle {
  const sub = billing.subscriptions.get(subscriptionId);
  if (!sub) throw new Error(`no subscription ${subscriptionId}`);
  const item = sub.items.data[0] as Record<string, unknown>;
  const price = item.price as Price;
  const start = Number(item.current_period_end);
  const end = start + (PERIOD_SECONDS[price.recurring.interval] ?? 30 * 86_400);
  Object.assign(item, { current_period_start: start, current_period_end: end });
  // The period is on the subscription before 2025-03-31 and on its items since.
  state.emit(
    'customer.subscription.updated',
    isBasil(state) ? sub : { ...sub, current_period_start: start, current_period_end: end },
  );
  const customer = billing.customers.get(sub.customer);
  const id = state.id('in');
  const amount = price.unit_amount * Number(item.quantity ?? 1);
  const invoice: StandInInvoice = {
    id,
    object: 'invoice',
    status: 'draft',
    created: state.now(),
    customer: sub.customer,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    currency: price.currency,
    billing_reason: 'subscription_cycle',
    collection_method: 'charge_automatically',
    total: amount,
    subtotal: amount,
    amount_due: amount,
    amount_paid: 0,
    amount_remaining: amount,
    attempt_count: 0,
    due_date: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    number: null,
    lines: {
      object: 'list',
      has_more: false,
      data: [
        {
          id: state.id('il'),
          object: 'line_item',
          amount,
          currency: price.currency,
          description: `1 × ${price.product} (at ${price.unit_amount} / ${price.recurring.interval})`,
          quantity: 1,
          period: { start, end },
        },
      ],
    },
    ...(isBasil(state)
      ? { parent: { type: 'subscription_details', subscription_details: { subscription: sub.id } } }
      : { subscription: sub.id, payment_intent: null, charge: null }),
    metadata: {},
    livemode: false,
  };
  invoices.invoices.set(id, invoice);
  sub.latest_invoice = id;
  state.emit('invoice.created', invoice);
  Object.assign(invoice, {
    status: 'open',
    number: `STAND-${invoices.invoices.size.toString().padStart(4, '0')}`,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_standin/${id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_standin/${id}/pdf`,
  });
  state.emit('invoice.finalized', invoice);
  return payInvoiceAtStripe(state, payments, invoice, options.card ?? sub.default_payment_method ?? 'pm_card_visa');
}

/** A payment attempt on an open invoice (the first, or Stripe's retry of a failed one). */
export function payInvoiceAtStripe(
  state: StandInState,
  payments: PaymentState,
  invoice: StandInInvoice,
  card: string,
): InvoiceCycle {
  const basil = isBasil(state);
  const pi: PaymentIntent = {
    id: state.id('pi'),
    object: 'payment_intent',
    created: state.now(),
    amount: Number(invoice.amount_due),
    amount_received: 0,
    currency: String(invoice.currency),
    customer: String(invoice.customer),
    payment_method: card,
    status: 'requires_confirmation',
    description: 'Subscription update',
    metadata: {},
    last_payment_error: null,
    latest_charge: null,
    ...(basil ? {} : { invoice: invoice.id }),
    livemode: false,
  };
  payments.intents.set(pi.id, pi);
  invoice.attempt_count = Number(invoice.attempt_count) + 1;
  let paid = true;
  try {
    confirm(state, payments, pi, card);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    paid = false;
  }
  if (!basil) Object.assign(invoice, { payment_intent: pi.id, charge: pi.latest_charge });
  if (!paid) {
    state.emit('invoice.payment_failed', invoice);
    return { invoice, paymentIntent: pi, paid };
  }
  Object.assign(invoice, { status: 'paid', amount_paid: invoice.amount_due, amount_remaining: 0 });
  if (basil) {
    state.emit('invoice_payment.paid', {
      id: state.id('inpay'),
      object: 'invoice_payment',
      amount_paid: invoice.amount_due,
      amount_requested: invoice.amount_due,
      created: state.now(),
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: pi.id },
      status: 'paid',
      status_transitions: { canceled_at: null, paid_at: state.now() },
    });
  }
  state.emit('invoice.paid', invoice);
  state.emit('invoice.payment_succeeded', invoice);
  return { invoice, paymentIntent: pi, paid };
}
