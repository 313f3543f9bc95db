// Stripe's Events API through the official SDK: the catch-up's view of what Stripe sent.
import Stripe from 'stripe';
import { call } from './stripe-errors.ts';
import { clientConfig } from './stripe.ts';
import type { StripeProviderOptions } from './stripe.ts';
import type { ProviderEventSource } from './types.ts';

export function createStripeEventSource(options: StripeProviderOptions): ProviderEventSource {
  const stripe = new Stripe(options.secretKey, clientConfig(options));
  return {
    async listEvents(query) {
      const page = await call('list events', () =>
        stripe.events.list({
          created: { gt: query.createdAfter, ...(query.createdUntil !== undefined ? { lte: query.createdUntil } : {}) },
          limit: query.limit,
          ...(query.startingAfter ? { starting_after: query.startingAfter } : {}),
        }),
      );
      return { data: page.data, has_more: page.has_more };
    },
  };
}
