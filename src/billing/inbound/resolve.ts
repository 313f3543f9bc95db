// Finding (or creating) our records for the Stripe objects an event names.
import type { Queryable } from '../../db/types.ts';
import { ConflictError } from '../../errors.ts';
import {
  createCustomer,
  createPlan,
  fillCustomerName,
  findCustomer,
  findCustomerByEmail,
  findCustomerByProviderId,
  findPaymentByProviderReference,
  findPlanByCode,
} from '../records/index.ts';
import type { Customer, Payment, Plan } from '../records/index.ts';
import type { CustomerHint, PriceTerms } from './map.ts';

export type Resolved<T> =
  | { found: T; created?: boolean }
  /** Not known yet: the event waits for this Stripe object (a later event may bring it). */
  | { waitFor: string; detail: string }
  /** Cannot be resolved from anything Stripe may still send. */
  | { reject: string };

// Addresses the customers table accepts (CHECK email LIKE '_%@_%').
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * The customer an event is about. By Stripe's customer id first, then by our id in the Stripe
 * customer's metadata; an unknown one is created from the event's email and name. A guest
 * payment (no Stripe customer) is matched by email, the oldest customer with it winning.
 * An email alone never links a Stripe customer to one of ours: two people may share an address
 * at Stripe, and merging them would mix their payments.
 */
export async function resolveCustomer(q: Queryable, hint: CustomerHint): Promise<Resolved<Customer>> {
  if (hint.providerId) {
    const known = await findCustomerByProviderId(q, hint.providerId);
    // Events about one customer race; the one that created it may not have carried the name.
    if (known) return { found: await fillCustomerName(q, known, hint.name ?? undefined) };
  }
  if (hint.billflowId) {
    const ours = await findCustomer(q, hint.billflowId);
    if (ours && (ours.provider_customer_id === null || ours.provider_customer_id === hint.providerId)) {
      return { found: ours };
    }
  }
  const email = hint.email?.trim() ?? null;
  if (!email || !EMAIL.test(email)) {
    if (hint.providerId) {
      return {
        waitFor: hint.providerId,
        detail: `customer ${hint.providerId} is unknown and the event carries no email; waiting for its customer.created`,
      };
    }
    return { reject: 'the payment has no Stripe customer and no email to find or create one' };
  }
  if (!hint.providerId) {
    const byEmail = await findCustomerByEmail(q, email);
    if (byEmail) return { found: byEmail };
  }
  const created = await createCustomer(q, {
    email,
    name: hint.name ?? undefined,
    provider_customer_id: hint.providerId ?? undefined,
  });
  // Another event about this customer may have created it a moment before, without the name.
  return { found: await fillCustomerName(q, created, hint.name ?? undefined), created: true };
}

/** The payment a refund or dispute is about, by any of its Stripe ids. */
export async function resolvePayment(q: Queryable, stripeIds: readonly string[]): Promise<Resolved<Payment>> {
  for (const id of stripeIds) {
    const payment = await findPaymentByProviderReference(q, id);
    if (payment) return { found: payment };
  }
  const first = stripeIds[0] as string;
  return { waitFor: first, detail: `payment ${stripeIds.join(' / ')} is not known yet; waiting for its event` };
}

/**
 * The plan a Stripe price is sold as here, created from the price the first time it is seen
 * (Stripe prices are immutable, so a plan with the price's code has its terms). A plan with that
 * code but other terms was made by hand: refused rather than silently repriced.
 */
export async function ensurePlanForPrice(q: Queryable, price: PriceTerms): Promise<Resolved<Plan>> {
  let plan = await findPlanByCode(q, price.code);
  let created = false;
  if (!plan) {
    try {
      plan = await createPlan(q, {
        code: price.code,
        name: price.name.slice(0, 200),
        amount: price.amount,
        currency: price.currency,
        interval: price.interval,
        trial_days: 0,
      });
      created = true;
    } catch (error) {
      // Another delivery created it in between.
      if (!(error instanceof ConflictError)) throw error;
      plan = await findPlanByCode(q, price.code);
      if (!plan) throw error;
    }
  }
  if (plan.amount !== price.amount || plan.currency !== price.currency || plan.interval !== price.interval) {
    return {
      reject: `plan ${plan.code} is ${plan.amount} ${plan.currency} per ${plan.interval}, but Stripe price ${price.priceId} is ${price.amount} ${price.currency} per ${price.interval}`,
    };
  }
  return { found: plan, created };
}
