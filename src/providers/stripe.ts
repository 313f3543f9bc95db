import Stripe from 'stripe';
import { PermanentError, RetryableError } from '../errors.ts';
import { call, isCardError, providerError } from './stripe-errors.ts';
import {
  chargeParam,
  findCustomer,
  findIntent,
  findRefund,
  findSubscription,
  retrieveSubscription,
} from './stripe-lookup.ts';
import { declinedCharge, intentState, toCustomer, toRefundResult, toSubscription } from './stripe-map.ts';
import { ensurePrice } from './stripe-prices.ts';
import type { ChargeInput, ChargeResult, PaymentProvider } from './types.ts';
import { checkAmount, checkCurrency, checkCustomer, checkIdempotencyKey, checkMetadata } from './validate.ts';

export interface StripeProviderOptions {
  secretKey: string;
  /** Another API base than Stripe's (the test stand-in), e.g. http://127.0.0.1:12111. */
  apiBase?: string;
  /**
   * Retries inside the SDK (same idempotency key). Default 0: the engine retries, with backoff
   * and visibly in the run's history. The SDK still retries once on a connection closed early.
   */
  maxNetworkRetries?: number;
  /** Per request; far below the engine's step timeout so a hung call fails as retryable first. */
  timeoutMs?: number;
  now?: () => Date;
}

export function clientConfig(options: StripeProviderOptions): Stripe.StripeConfig {
  const config: Stripe.StripeConfig = {
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    timeout: options.timeoutMs ?? 30_000,
    telemetry: false,
    appInfo: { name: 'Billflow' },
  };
  if (options.apiBase) {
    const url = new URL(options.apiBase);
    config.protocol = url.protocol === 'http:' ? 'http' : 'https';
    config.host = url.hostname;
    config.port = url.port || (url.protocol === 'http:' ? 80 : 443);
  }
  return config;
}

/**
 * Payments through Stripe with the official SDK. Every mutating call carries the caller's
 * idempotency key, and unless told it is a first attempt, first looks for what an earlier
 * attempt made (Stripe forgets idempotency keys after 24 hours; a restart may come later).
 */
export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
  const stripe = new Stripe(options.secretKey, clientConfig(options));
  const now = options.now ?? (() => new Date());

  async function settle(pi: Stripe.PaymentIntent, input: ChargeInput, confirmed = false): Promise<ChargeResult> {
    const state = intentState(pi);
    if (state.kind === 'final') return state.result;
    if (state.kind === 'in_flight') {
      throw new RetryableError(`Stripe: payment ${state.id} is still processing; the next attempt looks it up again`);
    }
    if (confirmed) throw new PermanentError(`Stripe: payment ${state.id} is still unconfirmed after confirming it`);
    // An earlier attempt created the payment but stopped before confirming it: finish that one.
    try {
      const done = await stripe.paymentIntents.confirm(
        state.id,
        { payment_method: input.paymentMethod, off_session: true },
        { idempotencyKey: `${input.idempotencyKey}:confirm` },
      );
      return settle(done, input, true);
    } catch (error) {
      if (isCardError(error)) return declinedCharge(error, input);
      throw providerError(error, 'confirm payment intent');
    }
  }

  return {
    name: 'stripe',

    async ensureCustomer(input) {
      checkIdempotencyKey(input.idempotencyKey);
      checkCustomer(input);
      const found = await findCustomer(stripe, input.customerId, input.email);
      if (found) return toCustomer(found, input.customerId);
      const created = await call('create customer', () =>
        stripe.customers.create(
          { email: input.email, name: input.name, metadata: { billflow_customer_id: input.customerId } },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toCustomer(created, input.customerId);
    },

    async createSubscription(input) {
      checkIdempotencyKey(input.idempotencyKey);
      checkMetadata(input.metadata);
      if (!input.firstAttempt) {
        const found = await findSubscription(stripe, input.customer, input.subscriptionId);
        if (found) return toSubscription(found);
      }
      const price = await ensurePrice(stripe, input.plan);
      const created = await call('create subscription', () =>
        stripe.subscriptions.create(
          {
            customer: input.customer,
            items: [{ price }],
            default_payment_method: input.paymentMethod,
            off_session: true,
            metadata: {
              ...input.metadata,
              billflow_subscription_id: input.subscriptionId,
              billflow_key: input.idempotencyKey,
            },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toSubscription(created);
    },

    async cancelSubscription(input) {
      checkIdempotencyKey(input.idempotencyKey);
      const id = input.providerReference;
      const retrieve = () => call('retrieve subscription', () => stripe.subscriptions.retrieve(id));
      const ended = (s: Stripe.Subscription) => s.status === 'canceled' || s.status === 'incomplete_expired';
      const current = await retrieve();
      // Already over: nothing to do, so a re-run after a lost answer is harmless.
      if (ended(current)) return toSubscription(current);
      const options = { idempotencyKey: input.idempotencyKey };
      const { when } = input;
      try {
        const updated = await call('cancel subscription', () => {
          if (when === 'now' || (when instanceof Date && when <= now()))
            return stripe.subscriptions.cancel(id, {}, options);
          if (when === 'period_end') return stripe.subscriptions.update(id, { cancel_at_period_end: true }, options);
          return stripe.subscriptions.update(id, { cancel_at: Math.floor(when.getTime() / 1000) }, options);
        });
        return toSubscription(updated);
      } catch (error) {
        // Stripe refuses to cancel what ended since the look-up (the customer, Stripe's own
        // dunning): it is where this call was taking it.
        if (!(error instanceof PermanentError)) throw error;
        const after = await retrieve();
        if (ended(after)) return toSubscription(after);
        throw error;
      }
    },

    async changeSubscriptionPlan(input) {
      checkIdempotencyKey(input.idempotencyKey);
      const id = input.providerReference;
      const price = await ensurePrice(stripe, input.plan);
      const current = await call('retrieve subscription', () => stripe.subscriptions.retrieve(id));
      const item = current.items.data[0];
      if (!item) throw new PermanentError(`subscription ${id} has no item to change`);
      // Already on the price (a re-run after a lost answer): nothing to do.
      if (item.price.id === price) return toSubscription(current);
      const updated = await call('change subscription price', () =>
        stripe.subscriptions.update(
          id,
          // Billflow's own invoices carry the proration; Stripe bills the new price from its next period.
          { items: [{ id: item.id, price }], proration_behavior: 'none' },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toSubscription(updated);
    },

    async findSubscription(query) {
      const found = query.providerReference
        ? await retrieveSubscription(stripe, query.providerReference)
        : await findSubscription(stripe, query.customer, query.subscriptionId);
      return found ? toSubscription(found) : null;
    },

    async charge(input) {
      checkIdempotencyKey(input.idempotencyKey);
      checkAmount(input.amount);
      checkCurrency(input.currency);
      checkMetadata(input.metadata);
      if (!input.firstAttempt) {
        const found = await findIntent(stripe, input.idempotencyKey, input.customer);
        if (found) return settle(found, input);
      }
      let pi: Stripe.PaymentIntent;
      try {
        pi = await stripe.paymentIntents.create(
          {
            amount: input.amount,
            currency: input.currency.toLowerCase(),
            customer: input.customer,
            payment_method: input.paymentMethod,
            confirm: true,
            off_session: true,
            // Off-session there is nobody to follow a redirect, so such methods are not offered.
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            description: input.description,
            metadata: { ...input.metadata, billflow_key: input.idempotencyKey },
          },
          { idempotencyKey: input.idempotencyKey },
        );
      } catch (error) {
        if (isCardError(error)) return declinedCharge(error, input);
        throw providerError(error, 'create payment intent');
      }
      return settle(pi, input);
    },

    async findCharge(query) {
      const found = await findIntent(stripe, query.idempotencyKey, query.customer);
      if (!found) return null;
      const state = intentState(found);
      if (state.kind === 'in_flight') {
        throw new RetryableError(`Stripe: payment ${state.id} is still processing; its outcome is not known yet`);
      }
      return state.kind === 'final' ? state.result : null;
    },

    async refund(input) {
      checkIdempotencyKey(input.idempotencyKey);
      if (input.amount !== undefined) checkAmount(input.amount);
      checkMetadata(input.metadata);
      if (!input.firstAttempt) {
        const found = await findRefund(stripe, input.idempotencyKey, input.chargeReference);
        if (found) return toRefundResult(found, input.chargeReference);
      }
      const refund = await call('create refund', () =>
        stripe.refunds.create(
          {
            ...chargeParam(input.chargeReference),
            amount: input.amount,
            reason: input.reason,
            metadata: { ...input.metadata, billflow_key: input.idempotencyKey },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      );
      return toRefundResult(refund, input.chargeReference);
    },

    async findRefund(query) {
      const found = await findRefund(stripe, query.idempotencyKey, query.chargeReference);
      return found ? toRefundResult(found, query.chargeReference) : null;
    },
  };
}
