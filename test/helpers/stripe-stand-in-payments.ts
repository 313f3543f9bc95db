import type { FormObject } from './stripe-form.ts';
import type { BillingState } from './stripe-stand-in-billing.ts';
import type { Route, StandInState, StripeObject } from './stripe-stand-in-state.ts';
import {
  ApiError,
  bool,
  int,
  invalid,
  metadata,
  missing,
  newestFirst,
  page,
  required,
  str,
} from './stripe-stand-in-state.ts';

/** Stripe's test payment methods that the stand-in knows, with what confirming them does. */
type Card = { outcome: 'succeed' } | { outcome: 'decline'; code: string; decline_code?: string; message: string };

const declined = (decline_code: string, message = 'Your card was declined.'): Card => ({
  outcome: 'decline',
  code: 'card_declined',
  decline_code,
  message,
});

export const TEST_CARDS: Readonly<Record<string, Card>> = {
  pm_card_visa: { outcome: 'succeed' },
  pm_card_mastercard: { outcome: 'succeed' },
  pm_card_chargeDeclined: declined('generic_decline'),
  pm_card_chargeDeclinedInsufficientFunds: declined('insufficient_funds', 'Your card has insufficient funds.'),
  pm_card_chargeDeclinedStolenCard: declined('stolen_card'),
  pm_card_chargeDeclinedLostCard: declined('lost_card'),
  pm_card_chargeDeclinedFraudulent: declined('fraudulent'),
  pm_card_chargeDeclinedExpiredCard: { outcome: 'decline', code: 'expired_card', message: 'Your card has expired.' },
  pm_card_chargeDeclinedProcessingError: {
    outcome: 'decline',
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
  pm_card_authenticationRequired: {
    outcome: 'decline',
    code: 'authentication_required',
    decline_code: 'authentication_required',
    message: 'Your card was declined. This transaction requires authentication.',
  },
};

export interface PaymentIntent extends StripeObject {
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  payment_method: string | null;
  status: string;
  description: string | null;
  last_payment_error: Record<string, unknown> | null;
  latest_charge: string | null;
  [field: string]: unknown;
}

export interface Refund extends StripeObject {
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string;
  status: string;
  reason: string | null;
}

export class PaymentState {
  readonly intents = new Map<string, PaymentIntent>();
  readonly refunds = new Map<string, Refund>();
  /** Charge id → its PaymentIntent, so a refund may name either. */
  readonly charges = new Map<string, string>();
}

export function confirm(state: StandInState, payments: PaymentState, pi: PaymentIntent, paymentMethod: string): void {
  const card = TEST_CARDS[paymentMethod];
  if (!card) throw missing('PaymentMethod', paymentMethod, 'payment_method');
  pi.payment_method = paymentMethod;
  const charge = state.id('ch');
  payments.charges.set(charge, pi.id);
  pi.latest_charge = charge;
  if (card.outcome === 'succeed') {
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount, last_payment_error: null });
    state.emit('payment_intent.succeeded', pi);
    return;
  }
  const error = {
    type: 'card_error',
    code: card.code,
    ...(card.decline_code && { decline_code: card.decline_code }),
    message: card.message,
    charge,
    doc_url: `https://stripe.com/docs/error-codes/${card.code.replace(/_/g, '-')}`,
    payment_method: { id: paymentMethod, object: 'payment_method', type: 'card' },
  };
  Object.assign(pi, { status: 'requires_payment_method', last_payment_error: error });
  state.emit('payment_intent.payment_failed', pi);
  // A decline answers 402 with the PaymentIntent inside the error, as Stripe does.
  throw new ApiError(402, { ...error, payment_intent: pi });
}

export function paymentRoutes(state: StandInState, billing: BillingState, payments: PaymentState): Route[] {
  const intent = (id: string, param?: string): PaymentIntent => {
    const found = payments.intents.get(id);
    if (!found) throw missing('payment_intent', id, param);
    return found;
  };
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents$/,
      handle(params) {
        const amount = int(params, 'amount');
        if (amount === undefined) throw invalid('Missing required param: amount.', 'amount', 'parameter_missing');
        if (amount < 1) throw invalid('This value must be greater than or equal to 1.', 'amount');
        const customer = str(params, 'customer') ?? null;
        if (customer && !billing.customers.has(customer)) throw missing('customer', customer, 'customer');
        const pi: PaymentIntent = {
          id: state.id('pi'),
          object: 'payment_intent',
          created: state.now(),
          amount,
          amount_received: 0,
          currency: required(params, 'currency').toLowerCase(),
          customer,
          payment_method: str(params, 'payment_method') ?? null,
          status: 'requires_payment_method',
          description: str(params, 'description') ?? null,
          metadata: metadata(params),
          last_payment_error: null,
          latest_charge: null,
          capture_method: 'automatic',
          confirmation_method: 'automatic',
          cancellation_reason: null,
          livemode: false,
        };
        if (pi.payment_method) pi.status = 'requires_confirmation';
        if (bool(params, 'confirm')) {
          if (!pi.payment_method) throw invalid('A payment method is required to confirm.', 'payment_method');
          if (!TEST_CARDS[pi.payment_method]) throw missing('PaymentMethod', pi.payment_method, 'payment_method');
          payments.intents.set(pi.id, pi);
          confirm(state, payments, pi, pi.payment_method);
        }
        payments.intents.set(pi.id, pi);
        return { body: pi };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents$/,
      handle(params) {
        const customer = str(params, 'customer');
        const all = newestFirst(payments.intents).filter((pi) => !customer || pi.customer === customer);
        return { body: page('/v1/payment_intents', all, params) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents\/search$/,
      handle(params) {
        const query = required(params, 'query');
        const m = /^metadata\['([^']+)'\]:'((?:[^'\\]|\\.)*)'$/.exec(query);
        if (!m) throw invalid(`The stand-in only understands metadata['key']:'value' (got ${query})`, 'query');
        const [, key, raw] = m as unknown as [string, string, string];
        const value = raw.replace(/\\(.)/g, '$1');
        const data = newestFirst(payments.intents).filter((pi) => pi.metadata[key] === value);
        return {
          body: { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/payment_intents/search' },
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/payment_intents\/([^/]+)$/,
      handle: (_params, [id]) => ({ body: intent(id as string) }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/payment_intents\/([^/]+)\/confirm$/,
      handle(params, [id]) {
        const pi = intent(id as string);
        if (pi.status !== 'requires_confirmation' && pi.status !== 'requires_payment_method') {
          throw invalid(
            `This PaymentIntent's status is ${pi.status} and cannot be confirmed.`,
            undefined,
            'payment_intent_unexpected_state',
          );
        }
        const method = str(params, 'payment_method') ?? pi.payment_method;
        if (!method) throw invalid('A payment method is required to confirm.', 'payment_method');
        confirm(state, payments, pi, method);
        return { body: pi };
      },
    },
    ...refundRoutes(state, payments, intent),
  ];
}

function refundRoutes(
  state: StandInState,
  payments: PaymentState,
  intent: (id: string, p?: string) => PaymentIntent,
): Route[] {
  const target = (params: FormObject): PaymentIntent => {
    const charge = str(params, 'charge');
    if (charge) {
      const pi = payments.charges.get(charge);
      if (!pi) throw missing('charge', charge, 'charge');
      return intent(pi);
    }
    const id = str(params, 'payment_intent');
    if (!id) throw invalid('One of charge or payment_intent is required.', 'payment_intent');
    return intent(id, 'payment_intent');
  };
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/refunds$/,
      handle(params) {
        const pi = target(params);
        if (pi.status !== 'succeeded' || !pi.latest_charge) {
          throw invalid(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, 'payment_intent');
        }
        const refunded = [...payments.refunds.values()]
          .filter((r) => r.payment_intent === pi.id)
          .reduce((sum, r) => sum + r.amount, 0);
        const remaining = pi.amount - refunded;
        if (remaining === 0)
          throw invalid(`Charge ${pi.latest_charge} has already been refunded.`, undefined, 'charge_already_refunded');
        const amount = int(params, 'amount') ?? remaining;
        if (amount < 1 || amount > remaining) {
          throw invalid(
            `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
            'amount',
            'amount_too_large',
          );
        }
        const refund: Refund = {
          id: state.id('re'),
          object: 'refund',
          created: state.now(),
          amount,
          currency: pi.currency,
          payment_intent: pi.id,
          charge: pi.latest_charge,
          status: 'succeeded',
          reason: str(params, 'reason') ?? null,
          metadata: metadata(params),
        };
        payments.refunds.set(refund.id, refund);
        state.emit('refund.created', refund);
        return { body: refund };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/refunds$/,
      handle(params) {
        const pi = str(params, 'payment_intent');
        const charge = str(params, 'charge');
        const all = newestFirst(payments.refunds).filter(
          (r) => (!pi || r.payment_intent === pi) && (!charge || r.charge === charge),
        );
        return { body: page('/v1/refunds', all, params) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/refunds\/([^/]+)$/,
      handle(_params, [id]) {
        const refund = payments.refunds.get(id as string);
        if (!refund) throw missing('refund', id as string);
        return { body: refund };
      },
    },
  ];
}
