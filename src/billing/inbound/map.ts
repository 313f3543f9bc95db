// From a verified Stripe event to what Billflow should do with it: pure functions, no database.
// The result names Stripe objects only; handle.ts resolves them to our records.
import { currency, int, isObject, list, metadata, obj, ref, str } from './json.ts';
import type { Json } from './json.ts';
import { customerHint, idempotencyKeyFor, missing } from './intents.ts';
import type { ChargebackIntent, CustomerHint, StripeIntent } from './intents.ts';
import {
  fromCustomer,
  fromDeletedSubscription,
  fromSubscription,
  fromUpdatedSubscription,
} from './map-subscriptions.ts';
import { fromBillingInvoice, fromPaidInvoice, invoicePaymentIds, invoiceSubscription } from './map-invoices.ts';
import type { CalendarOwner } from '../calendar/deps.ts';

export * from './intents.ts';
export { priceTerms } from './map-subscriptions.ts';

/** The event types Billflow acts on. */
export const MAPPED_EVENT_TYPES = [
  'payment_intent.succeeded',
  'charge.succeeded',
  'invoice.payment_succeeded',
  'payment_intent.payment_failed',
  'charge.failed',
  'invoice.payment_failed',
  'charge.refunded',
  'refund.created',
  'charge.dispute.created',
  'customer.subscription.created',
  'customer.subscription.deleted',
  'customer.created',
  'customer.updated',
] as const;

/** The types Billflow acts on only when Stripe Billing owns the calendar (BILLFLOW_CALENDAR_OWNER=stripe). */
export const STRIPE_BILLING_EVENT_TYPES = [
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice_payment.paid',
  'customer.subscription.updated',
] as const;

export interface MapOptions {
  /** Who owns the billing calendar; `billflow` (the default) leaves Stripe's invoices alone. */
  calendarOwner?: CalendarOwner;
}

/** The parts of an event the mapping reads; a full `Stripe.Event` fits. */
export interface StripeEventLike {
  id: string;
  type: string;
  data: { object: unknown };
}

export function mapStripeEvent(event: StripeEventLike, options: MapOptions = {}): StripeIntent {
  const o = isObject(event.data.object) ? event.data.object : {};
  if (options.calendarOwner === 'stripe') {
    switch (event.type) {
      case 'invoice.created':
      case 'invoice.finalized':
        return fromBillingInvoice(o);
      case 'invoice.paid':
        return fromPaidInvoice(o);
      case 'invoice_payment.paid':
        return fromInvoicePayment(o);
      case 'customer.subscription.updated':
        return fromUpdatedSubscription(o);
    }
  }
  switch (event.type) {
    case 'payment_intent.succeeded':
      return fromPaymentIntent(o, 'succeeded');
    case 'payment_intent.payment_failed':
      return fromPaymentIntent(o, 'failed');
    case 'charge.succeeded':
      return fromCharge(o, 'succeeded');
    case 'charge.failed':
      return fromCharge(o, 'failed');
    case 'invoice.payment_succeeded':
      return fromInvoice(o, 'succeeded');
    case 'invoice.payment_failed':
      return fromInvoice(o, 'failed');
    case 'charge.refunded':
      return fromRefundedCharge(o);
    case 'refund.created':
      return fromRefund(o);
    case 'charge.dispute.created':
      return fromDispute(o);
    case 'customer.subscription.created':
      return fromSubscription(o);
    case 'customer.subscription.deleted':
      return fromDeletedSubscription(o);
    case 'customer.created':
    case 'customer.updated':
      return fromCustomer(o);
    default:
      return { kind: 'unsupported', detail: `Billflow does not act on ${event.type} events` };
  }
}

function payment(
  o: Json,
  status: 'succeeded' | 'failed',
  facts: {
    intentId: string | null;
    chargeId: string | null;
    amount: number | null;
    customer: CustomerHint;
    failureCode?: string | null;
    failureMessage?: string | null;
    invoiceId?: string | null;
    subscriptionId?: string | null;
    what: string;
  },
): StripeIntent {
  // Billflow's own charges carry the key of the step that made them: that run records them.
  const ownKey = metadata(o, 'billflow_key');
  if (ownKey) return { kind: 'ignore', detail: `made by Billflow (${ownKey}); its run records it` };
  const amount = facts.amount;
  const code = currency(o);
  if (amount === null || amount < 0) return missing(facts.what, 'amount');
  if (amount === 0) return { kind: 'ignore', detail: `the ${facts.what} is for 0: nothing was paid` };
  if (!code) return missing(facts.what, 'currency');
  const stripeIds = [facts.intentId, facts.chargeId].filter((id): id is string => id !== null);
  // A success is one per PaymentIntent (its charge and invoice events name the same intent); a
  // failure is one per attempt, and an intent may fail several times before it succeeds.
  const reference = status === 'succeeded' ? (facts.intentId ?? facts.chargeId) : (facts.chargeId ?? facts.intentId);
  if (!reference) return missing(facts.what, 'payment intent or charge');
  const runType = status === 'succeeded' ? 'payment_success' : 'payment_failure';
  return {
    kind: 'payment',
    runType,
    idempotencyKey: idempotencyKeyFor(reference, runType),
    status,
    amount,
    currency: code,
    reference,
    stripeIds,
    ...(status === 'failed'
      ? { failureCode: facts.failureCode ?? 'card_declined', failureMessage: facts.failureMessage ?? undefined }
      : {}),
    customer: facts.customer,
    providerInvoiceId: facts.invoiceId ?? null,
    providerSubscriptionId: facts.subscriptionId ?? null,
  };
}

function fromPaymentIntent(pi: Json, status: 'succeeded' | 'failed'): StripeIntent {
  const error = obj(pi, 'last_payment_error');
  const charge = error ? ref(error, 'charge') : null;
  return payment(pi, status, {
    what: 'payment intent',
    intentId: str(pi, 'id'),
    chargeId: charge ?? ref(pi, 'latest_charge'),
    amount: status === 'succeeded' ? int(pi, 'amount_received') || int(pi, 'amount') : int(pi, 'amount'),
    customer: customerHint(pi, { email: str(pi, 'receipt_email') }),
    // Issuer decline codes (insufficient_funds, stolen_card) say more than `card_declined`.
    failureCode: str(error, 'decline_code') ?? str(error, 'code'),
    failureMessage: str(error, 'message'),
    // Present only on API versions before 2025-03-31.
    invoiceId: ref(pi, 'invoice'),
  });
}

function fromCharge(ch: Json, status: 'succeeded' | 'failed'): StripeIntent {
  const billing = obj(ch, 'billing_details');
  const outcome = obj(ch, 'outcome');
  return payment(ch, status, {
    what: 'charge',
    intentId: ref(ch, 'payment_intent'),
    chargeId: str(ch, 'id'),
    amount: int(ch, 'amount'),
    customer: customerHint(ch, {
      email: str(billing, 'email') ?? str(ch, 'receipt_email'),
      name: str(billing, 'name'),
    }),
    failureCode: str(outcome, 'reason') ?? str(ch, 'failure_code'),
    failureMessage: str(ch, 'failure_message'),
    invoiceId: ref(ch, 'invoice'),
  });
}

/**
 * Until API version 2025-03-31 an invoice names its PaymentIntent (and charge); since then only
 * its `payments` list does, and that list is not in webhook payloads. Without the intent an
 * invoice event cannot be matched to the payment_intent/charge events of the same payment, so it
 * is not recorded (that would count the revenue twice): the intent's own events record it.
 */
function fromInvoice(inv: Json, status: 'succeeded' | 'failed'): StripeIntent {
  const { intentId, chargeId } = invoicePaymentIds(inv);
  if (!intentId && !chargeId) {
    return {
      kind: 'ignore',
      detail:
        'the invoice names no payment intent or charge (API version 2025-03-31 or later); the payment is recorded from its payment_intent.* or charge.* event',
    };
  }
  return payment(inv, status, {
    what: 'invoice',
    intentId,
    chargeId,
    amount: status === 'succeeded' ? int(inv, 'amount_paid') : int(inv, 'amount_due'),
    customer: customerHint(inv, { email: str(inv, 'customer_email'), name: str(inv, 'customer_name') }),
    // An invoice does not say why its payment failed; the intent's own event does.
    failureCode: 'invoice_payment_failed',
    invoiceId: str(inv, 'id'),
    subscriptionId: invoiceSubscription(inv),
  });
}

/**
 * invoice_payment.paid (API 2025-03-31 and later): which payment paid which invoice. The payment
 * is keyed by its PaymentIntent like its own payment_intent.succeeded, so the two start one run;
 * the payload names no customer, so the invoice's customer is the payer (handle.ts).
 */
function fromInvoicePayment(ip: Json): StripeIntent {
  const invoiceId = ref(ip, 'invoice');
  if (!invoiceId) return missing('invoice payment', 'invoice');
  const paid = obj(ip, 'payment');
  if (str(ip, 'status') !== 'paid') return { kind: 'ignore', detail: 'the invoice payment is not paid' };
  return payment(ip, 'succeeded', {
    what: 'invoice payment',
    intentId: ref(paid, 'payment_intent'),
    chargeId: ref(paid, 'charge'),
    amount: int(ip, 'amount_paid'),
    customer: { providerId: null, billflowId: null, email: null, name: null },
    invoiceId,
  });
}

const REFUND_REASONS: Record<string, string> = {
  duplicate: 'duplicate',
  fraudulent: 'fraudulent',
  requested_by_customer: 'requested by customer',
  expired_uncaptured_charge: 'expired uncaptured charge',
};

function fromRefund(re: Json): StripeIntent {
  const refundId = str(re, 'id');
  if (!refundId) return missing('refund', 'id');
  const ownKey = metadata(re, 'billflow_key');
  if (ownKey) return { kind: 'ignore', detail: `made by Billflow (${ownKey}); its run records it` };
  const status = str(re, 'status');
  if (status === 'failed' || status === 'canceled') {
    return { kind: 'ignore', detail: `the refund is ${status} at Stripe: nothing was returned` };
  }
  const amount = int(re, 'amount');
  if (amount === null || amount <= 0) return missing('refund', 'amount');
  const paymentIds = [ref(re, 'payment_intent'), ref(re, 'charge')].filter((id): id is string => id !== null);
  if (paymentIds.length === 0) return missing('refund', 'payment intent or charge');
  const reason = str(re, 'reason');
  return {
    kind: 'refund',
    runType: 'refund_creation',
    idempotencyKey: idempotencyKeyFor(refundId, 'refund_creation'),
    refundId,
    paymentIds,
    amount,
    reason: reason ? (REFUND_REASONS[reason] ?? reason) : null,
  };
}

/**
 * A charge's refunds are in its payload only on API versions before 2022-11-15 (later they must
 * be expanded). The newest refund is this event's; older ones had their own events. Without the
 * list the refund cannot be told apart from one seen in refund.created, so that event records it.
 */
function fromRefundedCharge(ch: Json): StripeIntent {
  const newest = list(ch, 'refunds')[0];
  if (!isObject(newest)) {
    return {
      kind: 'ignore',
      detail:
        'the charge lists no refunds (API version 2022-11-15 or later); the refund is recorded from refund.created',
    };
  }
  return fromRefund({ ...newest, charge: str(ch, 'id'), payment_intent: ref(ch, 'payment_intent') });
}

const DISPUTE_STATUSES: Record<string, ChargebackIntent['status']> = {
  needs_response: 'needs_response',
  warning_needs_response: 'needs_response',
  under_review: 'under_review',
  warning_under_review: 'under_review',
  won: 'won',
  warning_closed: 'won',
  lost: 'lost',
};

function fromDispute(du: Json): StripeIntent {
  const disputeId = str(du, 'id');
  if (!disputeId) return missing('dispute', 'id');
  const amount = int(du, 'amount');
  if (amount === null || amount <= 0) return missing('dispute', 'amount');
  const paymentIds = [ref(du, 'payment_intent'), ref(du, 'charge')].filter((id): id is string => id !== null);
  if (paymentIds.length === 0) return missing('dispute', 'payment intent or charge');
  return {
    kind: 'chargeback',
    runType: 'chargeback_creation',
    idempotencyKey: idempotencyKeyFor(disputeId, 'chargeback_creation'),
    disputeId,
    paymentIds,
    amount,
    reason: str(du, 'reason'),
    status: DISPUTE_STATUSES[str(du, 'status') ?? ''] ?? 'needs_response',
  };
}
