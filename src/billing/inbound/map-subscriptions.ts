// Mapping subscription and customer events (pure).
import { currency, int, isObject, list, metadata, obj, str, unixDate } from './json.ts';
import type { Json } from './json.ts';
import { customerHint, idempotencyKeyFor, missing } from './intents.ts';
import type { PriceTerms, StripeIntent } from './intents.ts';

const DAY_MS = 86_400_000;

/** The plan a Stripe price is sold as: only flat, per-unit prices billed every week, month or year. */
export function priceTerms(item: Json): PriceTerms | string {
  const price = obj(item, 'price');
  const priceId = str(price, 'id');
  if (!price || !priceId) return 'the subscription item has no price';
  const recurring = obj(price, 'recurring');
  const interval = str(recurring, 'interval');
  const every = int(recurring, 'interval_count') ?? 1;
  const unit = int(price, 'unit_amount');
  const quantity = int(item, 'quantity') ?? 1;
  const code = currency(price);
  if (interval !== 'week' && interval !== 'month' && interval !== 'year') {
    return `price ${priceId} is billed every ${interval ?? '?'}: plans are weekly, monthly or yearly`;
  }
  if (every !== 1) return `price ${priceId} is billed every ${every} ${interval}s: plans bill every single ${interval}`;
  if (str(price, 'billing_scheme') === 'tiered' || unit === null) {
    return `price ${priceId} is not a flat per-unit price`;
  }
  if (quantity < 1) return `the subscription item has quantity ${quantity}`;
  if (!code) return `price ${priceId} has no usable currency`;
  // A plan is per subscription; a quantity of seats is its own plan at the multiplied price.
  return {
    priceId,
    code: metadata(price, 'billflow_plan') ?? (quantity === 1 ? priceId : `${priceId}.x${quantity}`),
    name: (str(price, 'nickname') ?? `Stripe price ${priceId}`) + (quantity === 1 ? '' : ` × ${quantity}`),
    amount: unit * quantity,
    currency: code,
    interval,
  };
}

export function fromSubscription(sub: Json): StripeIntent {
  const subscriptionId = str(sub, 'id');
  if (!subscriptionId) return missing('subscription', 'id');
  const own = metadata(sub, 'billflow_subscription_id');
  if (own) return { kind: 'ignore', detail: `made by Billflow for ${own}; its run records it` };
  const items = list(sub, 'items').filter(isObject);
  if (items.length !== 1) {
    return { kind: 'reject', detail: `the subscription has ${items.length} items: Billflow plans are one price each` };
  }
  const price = priceTerms(items[0] as Json);
  if (typeof price === 'string') return { kind: 'reject', detail: price };
  const start = unixDate(sub, 'start_date') ?? unixDate(sub, 'created');
  const trialEnd = unixDate(sub, 'trial_end');
  const trialing = str(sub, 'status') === 'trialing' && start !== null && trialEnd !== null && trialEnd > start;
  return {
    kind: 'subscription',
    runType: 'subscription_creation',
    idempotencyKey: idempotencyKeyFor(subscriptionId, 'subscription_creation'),
    subscriptionId,
    customer: customerHint(sub),
    price,
    startedAt: start ? start.toISOString() : null,
    trialDays: trialing ? Math.min(730, Math.ceil((trialEnd.getTime() - start.getTime()) / DAY_MS)) : 0,
  };
}

export function fromDeletedSubscription(sub: Json): StripeIntent {
  const subscriptionId = str(sub, 'id');
  if (!subscriptionId) return missing('subscription', 'id');
  const details = obj(sub, 'cancellation_details');
  const why = str(details, 'reason') ?? str(details, 'comment');
  return {
    kind: 'cancellation',
    runType: 'subscription_cancellation',
    idempotencyKey: idempotencyKeyFor(subscriptionId, 'subscription_cancellation'),
    subscriptionId,
    billflowSubscriptionId: metadata(sub, 'billflow_subscription_id'),
    reason: why ? `cancelled at Stripe (${why})` : 'cancelled at Stripe',
  };
}

/**
 * The period is on the subscription before API version 2025-03-31 (basil) and on each item since;
 * a Billflow plan has one item, so the first item's period is the subscription's.
 */
export function fromUpdatedSubscription(sub: Json): StripeIntent {
  const subscriptionId = str(sub, 'id');
  if (!subscriptionId) return missing('subscription', 'id');
  const item = list(sub, 'items').find(isObject);
  const start = unixDate(sub, 'current_period_start') ?? unixDate(item, 'current_period_start');
  const end = unixDate(sub, 'current_period_end') ?? unixDate(item, 'current_period_end');
  const period = start && end && end > start ? { start, end } : null;
  const cancelAt = unixDate(sub, 'cancel_at');
  return {
    kind: 'subscription_update',
    subscriptionId,
    billflowSubscriptionId: metadata(sub, 'billflow_subscription_id'),
    status: str(sub, 'status'),
    periodStart: period ? period.start.toISOString() : null,
    periodEnd: period ? period.end.toISOString() : null,
    cancelAtPeriodEnd: isObject(sub) && sub.cancel_at_period_end === true,
    cancelAt: cancelAt ? cancelAt.toISOString() : null,
  };
}

export function fromCustomer(cus: Json): StripeIntent {
  const providerId = str(cus, 'id');
  if (!providerId) return missing('customer', 'id');
  return {
    kind: 'customer',
    customer: {
      providerId,
      billflowId: metadata(cus, 'billflow_customer_id'),
      email: str(cus, 'email'),
      name: str(cus, 'name'),
    },
  };
}
