// What a Stripe event asks of Billflow, in Stripe's terms: the mapping's result type and the
// small helpers every mapping shares.
import type { WorkflowType } from '../workflows/index.ts';
import { metadata, obj, ref, str } from './json.ts';
import type { Json } from './json.ts';

/** Who the event is about, as far as its payload tells. */
export interface CustomerHint {
  /** Stripe's customer id (cus_… at Stripe), null for a guest payment. */
  providerId: string | null;
  /** Our id, when the Stripe customer was created by Billflow (its metadata carries it). */
  billflowId: string | null;
  email: string | null;
  name: string | null;
}

interface Started {
  runType: WorkflowType;
  /** `stripe:<object id>:<run type>`: every event about the same object starts one run. */
  idempotencyKey: string;
}

export interface PaymentIntent extends Started {
  kind: 'payment';
  runType: 'payment_success' | 'payment_failure';
  status: 'succeeded' | 'failed';
  amount: number;
  currency: string;
  /** Our payments.provider_reference: the PaymentIntent for a success (one per intent), the charge for a failure (one per attempt). */
  reference: string;
  /** Every Stripe id this payment is known by (intent, charge), for look-ups and waiting events. */
  stripeIds: string[];
  failureCode?: string;
  failureMessage?: string;
  customer: CustomerHint;
  providerInvoiceId: string | null;
  providerSubscriptionId: string | null;
}

export interface RefundIntent extends Started {
  kind: 'refund';
  runType: 'refund_creation';
  refundId: string;
  /** The refunded payment's Stripe ids (intent first, then charge). */
  paymentIds: string[];
  amount: number;
  reason: string | null;
}

export interface ChargebackIntent extends Started {
  kind: 'chargeback';
  runType: 'chargeback_creation';
  disputeId: string;
  paymentIds: string[];
  amount: number;
  reason: string | null;
  status: 'needs_response' | 'under_review' | 'won' | 'lost';
}

/** A flat recurring Stripe price, as a plan's terms. */
export interface PriceTerms {
  priceId: string;
  /** The plan code this price is sold under here. */
  code: string;
  name: string;
  amount: number;
  currency: string;
  interval: 'week' | 'month' | 'year';
}

export interface SubscriptionIntent extends Started {
  kind: 'subscription';
  runType: 'subscription_creation';
  subscriptionId: string;
  customer: CustomerHint;
  price: PriceTerms;
  startedAt: string | null;
  trialDays: number;
}

export interface CancellationIntent extends Started {
  kind: 'cancellation';
  runType: 'subscription_cancellation';
  subscriptionId: string;
  billflowSubscriptionId: string | null;
  reason: string;
}

/**
 * Stripe Billing moved a subscription on (customer.subscription.updated, the calendar is Stripe's):
 * its period, its cancellation at period end and its status, copied onto ours. No run.
 */
export interface SubscriptionUpdateIntent {
  kind: 'subscription_update';
  subscriptionId: string;
  billflowSubscriptionId: string | null;
  /** Stripe's status (active, trialing, past_due, canceled, …). */
  status: string | null;
  /** ISO; null when the payload has no usable period. */
  periodStart: string | null;
  periodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  /** Stripe's `cancel_at` (ISO): a cancellation on a date, or at period end. */
  cancelAt: string | null;
}

/** A Stripe Billing invoice (the calendar is Stripe's): recorded here with its invoice_creation run. */
export interface InvoiceIntent extends Started {
  kind: 'invoice';
  runType: 'invoice_creation';
  invoiceId: string;
  customer: CustomerHint;
  providerSubscriptionId: string | null;
  currency: string;
  /** Stripe's lines; a proration credit is negative. */
  lines: { description: string; quantity: number; unit_amount: number }[];
  /** ISO; null when Stripe charges it automatically (no due date of its own). */
  dueAt: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  hostedUrl: string | null;
  pdfUrl: string | null;
}

/** Stripe says its invoice is paid: the invoice's run stops waiting. */
export interface InvoicePaidIntent {
  kind: 'invoice_paid';
  invoiceId: string;
  /** The paying payment's Stripe ids when the payload names them (intent first), else empty. */
  paymentIds: string[];
}

export type StripeIntent =
  | PaymentIntent
  | InvoiceIntent
  | InvoicePaidIntent
  | RefundIntent
  | ChargebackIntent
  | SubscriptionIntent
  | CancellationIntent
  | SubscriptionUpdateIntent
  /** A customer.* event: the customer is created here if unknown. */
  | { kind: 'customer'; customer: CustomerHint }
  /** Nothing to do; `detail` says why (shown to operators). */
  | { kind: 'ignore'; detail: string }
  | { kind: 'unsupported'; detail: string }
  /** A type we act on, but this payload cannot be applied (retrying would not help). */
  | { kind: 'reject'; detail: string };

export function idempotencyKeyFor(objectId: string, runType: WorkflowType): string {
  return `stripe:${objectId}:${runType}`;
}

export function customerHint(o: Json, extra: { email?: string | null; name?: string | null } = {}): CustomerHint {
  // `customer` may be expanded: then it carries its own email, name and our id.
  const expanded = obj(o, 'customer');
  return {
    providerId: ref(o, 'customer'),
    billflowId: expanded ? metadata(expanded, 'billflow_customer_id') : null,
    email: str(expanded, 'email') ?? extra.email ?? null,
    name: str(expanded, 'name') ?? extra.name ?? null,
  };
}

export function missing(what: string, field: string): StripeIntent {
  return { kind: 'reject', detail: `the ${what} has no usable ${field}` };
}
