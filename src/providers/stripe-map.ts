import type Stripe from 'stripe';
import { classifyDecline } from './declines.ts';
import type { ChargeResult, ProviderCustomer, ProviderSubscription, RefundResult } from './types.ts';

/** What a PaymentIntent found or returned means for the caller. */
export type IntentState =
  | { kind: 'final'; result: ChargeResult }
  /** Created but never confirmed (an earlier attempt stopped in between): nothing charged yet. */
  | { kind: 'unconfirmed'; id: string }
  /** The outcome is not known yet (async payment methods): ask again later. */
  | { kind: 'in_flight'; id: string };

const iso = (unixSeconds: number | null | undefined): string | null =>
  unixSeconds === null || unixSeconds === undefined ? null : new Date(unixSeconds * 1000).toISOString();

export function intentState(pi: Stripe.PaymentIntent): IntentState {
  const base = { provider_reference: pi.id, amount: pi.amount, currency: pi.currency.toUpperCase() };
  const error = pi.last_payment_error;
  switch (pi.status) {
    // Billflow never asks for manual capture, so an authorized payment counts as taken.
    case 'succeeded':
    case 'requires_capture':
      return {
        kind: 'final',
        result: { ...base, status: 'succeeded', failure_code: null, failure_message: null, decline: null },
      };
    case 'processing':
      return { kind: 'in_flight', id: pi.id };
    case 'requires_action': {
      // Off-session, nobody is there to authenticate: the issuer wants the customer, not a retry.
      const code = error?.decline_code || error?.code || 'authentication_required';
      const message = error?.message ?? 'The payment needs the customer to authenticate.';
      return {
        kind: 'final',
        result: { ...base, status: 'failed', failure_code: code, failure_message: message, decline: 'hard' },
      };
    }
    case 'canceled':
      return {
        kind: 'final',
        result: {
          ...base,
          status: 'failed',
          failure_code: 'payment_intent_canceled',
          failure_message: `the payment was canceled (${pi.cancellation_reason ?? 'no reason given'})`,
          decline: null,
        },
      };
    default:
      if (!error) return { kind: 'unconfirmed', id: pi.id };
      return {
        kind: 'final',
        result: {
          ...base,
          status: 'failed',
          failure_code: error.decline_code || error.code || 'card_declined',
          failure_message: error.message ?? null,
          decline: classifyDecline(error.decline_code || error.code, error.advice_code),
        },
      };
  }
}

/** A card error thrown by create/confirm: a failed result, not an exception. */
export function declinedCharge(
  error: Stripe.errors.StripeCardError,
  charged: { amount: number; currency: string },
): ChargeResult {
  // The SDK gives a card error without an issuer code an empty decline_code, hence `||`.
  const code = error.decline_code || error.code || 'card_declined';
  return {
    status: 'failed',
    provider_reference: error.payment_intent?.id ?? null,
    amount: charged.amount,
    currency: charged.currency.toUpperCase(),
    failure_code: code,
    failure_message: error.message,
    decline: classifyDecline(code, error.advice_code),
  };
}

export function toRefundResult(refund: Stripe.Refund, chargeReference: string): RefundResult {
  const status =
    refund.status === 'succeeded'
      ? 'succeeded'
      : refund.status === 'failed' || refund.status === 'canceled'
        ? 'failed'
        : 'pending';
  return {
    status,
    provider_reference: refund.id,
    charge_reference: chargeReference,
    amount: refund.amount,
    currency: refund.currency.toUpperCase(),
    failure_code: status === 'failed' ? (refund.failure_reason ?? refund.status) : null,
  };
}

export function toCustomer(customer: Stripe.Customer, customerId: string): ProviderCustomer {
  return { provider_reference: customer.id, customer_id: customerId, email: customer.email ?? '' };
}

export function toSubscription(sub: Stripe.Subscription): ProviderSubscription {
  // Since API version 2025-03-31 the period lives on the items; a subscription has one here.
  const periodEnd = sub.items.data.reduce<number | null>(
    (max, item) => (max === null || item.current_period_end > max ? item.current_period_end : max),
    null,
  );
  return {
    provider_reference: sub.id,
    subscription_id: sub.metadata.billflow_subscription_id ?? null,
    status: sub.status,
    current_period_end: iso(periodEnd),
    cancel_at_period_end: sub.cancel_at_period_end,
    cancel_at: iso(sub.cancel_at),
    canceled_at: iso(sub.canceled_at),
  };
}
