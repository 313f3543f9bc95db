import type { Queryable } from '../../src/db/types.ts';
import {
  createCustomer,
  createPlan,
  createSubscription,
  recordPayment,
  type Customer,
  type Interval,
  type Plan,
  type Subscription,
} from '../../src/billing/records/index.ts';

let seq = 0;

export async function seedCustomer(q: Queryable, overrides: Partial<Parameters<typeof createCustomer>[1]> = {}) {
  seq++;
  return createCustomer(q, { email: `customer${seq}@example.com`, name: `Customer ${seq}`, ...overrides });
}

export async function seedPlan(
  q: Queryable,
  overrides: { amount?: number; currency?: string; interval?: Interval; trial_days?: number; code?: string } = {},
): Promise<Plan> {
  seq++;
  return createPlan(q, {
    code: overrides.code ?? `plan-${seq}`,
    name: `Plan ${seq}`,
    amount: overrides.amount ?? 2000,
    currency: overrides.currency ?? 'USD',
    interval: overrides.interval ?? 'month',
    trial_days: overrides.trial_days ?? 0,
  });
}

/** A customer subscribed to a fresh plan, with the subscription's first payment. */
export async function seedPaidSubscription(
  q: Queryable,
  options: { amount?: number; interval?: Interval; currency?: string; at?: Date } = {},
): Promise<{ customer: Customer; plan: Plan; subscription: Subscription; paymentId: string }> {
  const customer = await seedCustomer(q);
  const plan = await seedPlan(q, options);
  const subscription = await createSubscription(
    q,
    { customer_id: customer.id, plan_code: plan.code },
    { at: options.at },
  );
  const payment = await recordPayment(
    q,
    {
      customer_id: customer.id,
      subscription_id: subscription.id,
      amount: plan.amount,
      currency: plan.currency,
      status: 'succeeded',
    },
    { at: options.at },
  );
  return { customer, plan, subscription, paymentId: payment.id };
}

export async function count(q: Queryable, table: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}
