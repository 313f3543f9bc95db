import type Stripe from 'stripe';
import { call } from './stripe-errors.ts';

/**
 * Look-ups of what an earlier attempt may have created. They go through list endpoints
 * (strongly consistent) filtered by the customer or payment, newest first, and match our
 * metadata. Stripe's search endpoints are used only when no such filter is known: their index
 * lags writes by up to a minute (that window is covered by the idempotency key, which Stripe
 * keeps for at least 24 hours).
 */

/** How far back a look-up walks a customer's payments before giving up (newest come first). */
const MAX_SCANNED = 1000;

async function firstMatch<T>(items: AsyncIterable<T>, matches: (item: T) => boolean): Promise<T | undefined> {
  let scanned = 0;
  for await (const item of items) {
    if (matches(item)) return item;
    if (++scanned >= MAX_SCANNED) return undefined;
  }
  return undefined;
}

/** A value inside a search query's single quotes. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function findIntent(
  stripe: Stripe,
  key: string,
  customer: string | undefined,
): Promise<Stripe.PaymentIntent | undefined> {
  return call('look up payment intent', async () => {
    if (customer !== undefined) {
      return firstMatch(stripe.paymentIntents.list({ customer, limit: 100 }), (pi) => pi.metadata.billflow_key === key);
    }
    const found = await stripe.paymentIntents.search({ query: `metadata['billflow_key']:${quoted(key)}`, limit: 1 });
    return found.data[0];
  });
}

/** Refunds are listed per payment: a handful at most. */
export function findRefund(stripe: Stripe, key: string, chargeReference: string): Promise<Stripe.Refund | undefined> {
  return call('look up refund', () =>
    firstMatch(
      stripe.refunds.list({ ...chargeParam(chargeReference), limit: 100 }),
      (r) => r.metadata?.billflow_key === key,
    ),
  );
}

export function findSubscription(
  stripe: Stripe,
  customer: string,
  subscriptionId: string,
): Promise<Stripe.Subscription | undefined> {
  return call('look up subscription', () =>
    firstMatch(
      stripe.subscriptions.list({ customer, status: 'all', limit: 100 }),
      (s) => s.metadata.billflow_subscription_id === subscriptionId,
    ),
  );
}

/** A subscription by Stripe's id; undefined when Stripe has none under it. */
export function retrieveSubscription(stripe: Stripe, reference: string): Promise<Stripe.Subscription | undefined> {
  return call('look up subscription', async () => {
    try {
      return await stripe.subscriptions.retrieve(reference);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'resource_missing') return undefined;
      throw error;
    }
  });
}

/**
 * Our customer: the one carrying our id among those with this email, else the only customer with
 * this email if no Billflow customer claims it (created in the dashboard or by a Stripe checkout).
 */
export function findCustomer(stripe: Stripe, customerId: string, email: string): Promise<Stripe.Customer | undefined> {
  return call('look up customer', async () => {
    const withEmail: Stripe.Customer[] = [];
    for await (const customer of stripe.customers.list({ email, limit: 100 })) {
      if (customer.metadata.billflow_customer_id === customerId) return customer;
      withEmail.push(customer);
      if (withEmail.length >= MAX_SCANNED) break;
    }
    const only = withEmail.length === 1 ? withEmail[0] : undefined;
    return only && !only.metadata.billflow_customer_id ? only : undefined;
  });
}

/** A refund names its payment by PaymentIntent (pi_…) or, for older integrations, by charge (ch_…). */
export function chargeParam(reference: string): { payment_intent: string } | { charge: string } {
  return reference.startsWith('ch_') ? { charge: reference } : { payment_intent: reference };
}
