import type Stripe from 'stripe';
import { call, providerError } from './stripe-errors.ts';
import type { PlanTerms } from './types.ts';
import { checkAmount, checkCurrency } from './validate.ts';

/**
 * The Stripe Price for a plan's terms. Prices are immutable, so the lookup key holds every term
 * that matters: a plan whose amount changes gets a new price and running subscriptions keep theirs.
 * The idempotency key comes from those terms, not from a run: the price is shared catalogue, and
 * two runs creating it at once must create it once.
 */
export async function ensurePrice(stripe: Stripe, plan: PlanTerms): Promise<string> {
  checkAmount(plan.amount, 'plan amount', true);
  const currency = checkCurrency(plan.currency).toLowerCase();
  const lookupKey = `billflow:${plan.code}:${plan.amount}:${currency}:${plan.interval}`;
  const find = () =>
    call('look up price', async () => {
      const listed = await stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 });
      return listed.data[0]?.id;
    });
  const existing = await find();
  if (existing) return existing;
  try {
    const created = await stripe.prices.create(
      {
        currency,
        unit_amount: plan.amount,
        recurring: { interval: plan.interval },
        product_data: { name: plan.name, metadata: { billflow_plan: plan.code } },
        lookup_key: lookupKey,
        // An archived price may hold the key; the new one takes it over.
        transfer_lookup_key: true,
        metadata: { billflow_plan: plan.code },
      },
      { idempotencyKey: `billflow-price:${lookupKey}` },
    );
    return created.id;
  } catch (error) {
    // Another process may have created it in between (e.g. with a renamed product): use theirs.
    const raced = await find();
    if (raced) return raced;
    throw providerError(error, 'create price');
  }
}
