import type { FormObject } from './stripe-form.ts';
import type { Route, StandInState, StripeObject } from './stripe-stand-in-state.ts';
import {
  bool,
  int,
  invalid,
  list,
  metadata,
  missing,
  newestFirst,
  obj,
  page,
  required,
  str,
} from './stripe-stand-in-state.ts';

export interface Customer extends StripeObject {
  email: string | null;
  name: string | null;
}

export interface Price extends StripeObject {
  active: boolean;
  currency: string;
  unit_amount: number;
  recurring: { interval: string; interval_count: number };
  product: string;
  lookup_key: string | null;
}

export interface Subscription extends StripeObject {
  customer: string;
  status: string;
  items: { object: 'list'; data: Record<string, unknown>[]; has_more: false; url: string };
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  default_payment_method: string | null;
  [field: string]: unknown;
}

export class BillingState {
  readonly customers = new Map<string, Customer>();
  readonly prices = new Map<string, Price>();
  readonly products = new Map<string, StripeObject & { name: string }>();
  readonly subscriptions = new Map<string, Subscription>();
}

const INTERVAL_SECONDS: Record<string, number> = {
  day: 86_400,
  week: 7 * 86_400,
  month: 30 * 86_400,
  year: 365 * 86_400,
};

function createPrice(state: StandInState, billing: BillingState, params: FormObject): Price {
  const recurring = obj(params, 'recurring');
  const interval = recurring?.interval;
  if (typeof interval !== 'string' || !INTERVAL_SECONDS[interval])
    throw invalid('Invalid recurring[interval]', 'recurring[interval]');
  let product = str(params, 'product');
  const productData = obj(params, 'product_data');
  if (!product) {
    if (typeof productData?.name !== 'string')
      throw invalid('Missing required param: product_data[name].', 'product_data[name]');
    product = state.id('prod');
    billing.products.set(product, {
      id: product,
      object: 'product',
      created: state.now(),
      metadata: {},
      name: productData.name,
    });
  }
  const lookupKey = str(params, 'lookup_key') ?? null;
  const holder = lookupKey ? [...billing.prices.values()].find((p) => p.lookup_key === lookupKey) : undefined;
  if (holder && !bool(params, 'transfer_lookup_key')) {
    throw invalid(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
  }
  if (holder) holder.lookup_key = null;
  const price: Price = {
    id: state.id('price'),
    object: 'price',
    created: state.now(),
    active: true,
    currency: required(params, 'currency').toLowerCase(),
    unit_amount: int(params, 'unit_amount') ?? 0,
    recurring: { interval, interval_count: 1 },
    product,
    lookup_key: lookupKey,
    metadata: metadata(params),
  };
  billing.prices.set(price.id, price);
  return price;
}

function createSubscription(state: StandInState, billing: BillingState, params: FormObject): Subscription {
  const customer = required(params, 'customer');
  if (!billing.customers.has(customer)) throw missing('customer', customer, 'customer');
  const items = list(params, 'items') ?? [];
  if (items.length === 0) throw invalid('Missing required param: items.', 'items', 'parameter_missing');
  const now = state.now();
  const id = state.id('sub');
  const data = items.map((item, i) => {
    const priceId = typeof item === 'object' && !Array.isArray(item) ? item.price : undefined;
    const price = typeof priceId === 'string' ? billing.prices.get(priceId) : undefined;
    if (!price) throw missing('price', String(priceId), `items[${i}][price]`);
    const period = INTERVAL_SECONDS[price.recurring.interval] as number;
    return {
      id: state.id('si'),
      object: 'subscription_item',
      price,
      quantity: 1,
      subscription: id,
      current_period_start: now,
      current_period_end: now + period,
    };
  });
  return {
    id,
    object: 'subscription',
    created: now,
    start_date: now,
    customer,
    status: 'active',
    items: { object: 'list', data, has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    default_payment_method: str(params, 'default_payment_method') ?? null,
    collection_method: 'charge_automatically',
    currency: (data[0]?.price.currency as string) ?? 'usd',
    latest_invoice: null,
    livemode: false,
    metadata: metadata(params),
  };
}

export function billingRoutes(state: StandInState, billing: BillingState): Route[] {
  const subscription = (id: string): Subscription => {
    const found = billing.subscriptions.get(id);
    if (!found) throw missing('subscription', id);
    return found;
  };
  const periodEnd = (sub: Subscription) => Number(sub.items.data[0]?.current_period_end ?? state.now());
  // items[i][id] with items[i][price]: the item moves to the price, keeping its period (as with
  // proration_behavior=none, the only behaviour Billflow asks for).
  const changeItems = (sub: Subscription, items: unknown[]) => {
    items.forEach((item, i) => {
      const fields = typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as FormObject) : {};
      const existing = sub.items.data.find((d) => d.id === fields.id);
      if (!existing) throw missing('subscription_item', String(fields.id), `items[${i}][id]`);
      const price = typeof fields.price === 'string' ? billing.prices.get(fields.price) : undefined;
      if (!price) throw missing('price', String(fields.price), `items[${i}][price]`);
      const current = existing.price as Price;
      if (price.currency !== current.currency || price.recurring.interval !== current.recurring.interval) {
        throw invalid('The price must have the same currency and interval as the subscription.', `items[${i}][price]`);
      }
      existing.price = price;
    });
  };
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/customers$/,
      handle(params) {
        const customer: Customer = {
          id: state.id('cus'),
          object: 'customer',
          created: state.now(),
          email: str(params, 'email') ?? null,
          name: str(params, 'name') ?? null,
          metadata: metadata(params),
        };
        billing.customers.set(customer.id, customer);
        state.emit('customer.created', customer);
        return { body: customer };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/customers$/,
      handle(params) {
        const email = str(params, 'email');
        const all = newestFirst(billing.customers).filter((c) => !email || c.email === email);
        return { body: page('/v1/customers', all, params) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/customers\/([^/]+)$/,
      handle(_params, [id]) {
        const customer = billing.customers.get(id as string);
        if (!customer) throw missing('customer', id as string);
        return { body: customer };
      },
    },
    { method: 'POST', pattern: /^\/v1\/prices$/, handle: (params) => ({ body: createPrice(state, billing, params) }) },
    {
      method: 'GET',
      pattern: /^\/v1\/prices$/,
      handle(params) {
        const keys = list(params, 'lookup_keys');
        const active = bool(params, 'active');
        const all = newestFirst(billing.prices).filter(
          (p) => (!keys || keys.includes(p.lookup_key ?? '')) && (active === undefined || p.active === active),
        );
        return { body: page('/v1/prices', all, params) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/subscriptions$/,
      handle(params) {
        const sub = createSubscription(state, billing, params);
        billing.subscriptions.set(sub.id, sub);
        state.emit('customer.subscription.created', sub);
        return { body: sub };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/subscriptions$/,
      handle(params) {
        const customer = str(params, 'customer');
        const status = str(params, 'status');
        const all = newestFirst(billing.subscriptions).filter(
          (s) =>
            (!customer || s.customer === customer) &&
            (status === 'all' || (status ? s.status === status : s.status !== 'canceled')),
        );
        return { body: page('/v1/subscriptions', all, params) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle: (_params, [id]) => ({ body: subscription(id as string) }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle(params, [id]) {
        const sub = subscription(id as string);
        if (sub.status === 'canceled') {
          throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
        }
        const atPeriodEnd = bool(params, 'cancel_at_period_end');
        const cancelAt = int(params, 'cancel_at');
        if (atPeriodEnd !== undefined) {
          sub.cancel_at_period_end = atPeriodEnd;
          sub.cancel_at = atPeriodEnd ? periodEnd(sub) : null;
        }
        if (cancelAt !== undefined) {
          if (cancelAt <= state.now()) throw invalid('cancel_at must be in the future.', 'cancel_at');
          Object.assign(sub, { cancel_at: cancelAt, cancel_at_period_end: false });
        }
        const items = list(params, 'items');
        if (items) changeItems(sub, items);
        sub.metadata = metadata(params, sub.metadata);
        return { body: sub };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\/subscriptions\/([^/]+)$/,
      handle(_params, [id]) {
        const sub = subscription(id as string);
        if (sub.status === 'canceled') throw invalid(`This subscription is already canceled: ${sub.id}`);
        const now = state.now();
        Object.assign(sub, { status: 'canceled', canceled_at: now, ended_at: now, cancel_at_period_end: false });
        state.emit('customer.subscription.deleted', sub);
        return { body: sub };
      },
    },
  ];
}
