// Stripe behind the provider interface, its SDK loaded on first use. The SDK is ~300 modules and
// ~4 MB of heap that a service on the sandbox never calls (docs/performance.md, "Memory"), so
// `createProvider` and `createEventSource` hand out these stand-ins and import it on the first call.
import type { StripeProviderOptions } from './stripe.ts';
import type { PaymentProvider, ProviderEventSource } from './types.ts';

export function lazyStripeProvider(options: StripeProviderOptions): PaymentProvider {
  let made: Promise<PaymentProvider> | undefined;
  const stripe = () => (made ??= import('./stripe.ts').then((m) => m.createStripeProvider(options)));
  return {
    name: 'stripe',
    ensureCustomer: async (input) => (await stripe()).ensureCustomer(input),
    createSubscription: async (input) => (await stripe()).createSubscription(input),
    cancelSubscription: async (input) => (await stripe()).cancelSubscription(input),
    changeSubscriptionPlan: async (input) => (await stripe()).changeSubscriptionPlan(input),
    findSubscription: async (query) => (await stripe()).findSubscription(query),
    charge: async (input) => (await stripe()).charge(input),
    findCharge: async (query) => (await stripe()).findCharge(query),
    refund: async (input) => (await stripe()).refund(input),
    findRefund: async (query) => (await stripe()).findRefund(query),
  };
}

export function lazyStripeEventSource(options: StripeProviderOptions): ProviderEventSource {
  let made: Promise<ProviderEventSource> | undefined;
  const source = () => (made ??= import('./stripe-events.ts').then((m) => m.createStripeEventSource(options)));
  return { listEvents: async (query) => (await source()).listEvents(query) };
}
