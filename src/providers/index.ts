// Payment providers behind one interface: the built-in sandbox (default) and Stripe. Stripe's SDK
// is loaded on the first call (stripe-lazy.ts); import ./stripe.ts for the provider itself.
import type { Db } from '../db/types.ts';
import type { ProviderConfig } from './config.ts';
import { createSandboxProvider } from './sandbox.ts';
import { lazyStripeEventSource, lazyStripeProvider } from './stripe-lazy.ts';
import type { PaymentProvider, ProviderEventSource } from './types.ts';

export type * from './types.ts';
export type { ProviderConfig } from './config.ts';
export { readProviderConfig } from './config.ts';
export { classifyDecline } from './declines.ts';
export { createSandboxProvider, DEFAULT_SANDBOX_TIMEOUT_MS } from './sandbox.ts';
export type { SandboxOptions } from './sandbox.ts';
export { SANDBOX_PAYMENT_METHODS } from './sandbox-methods.ts';
export type { SandboxBehaviour } from './sandbox-methods.ts';
export type { StripeProviderOptions } from './stripe.ts';

export interface ProviderDeps {
  /** The sandbox keeps its state here; Stripe does not use it. */
  db: Db;
  now?: () => Date;
}

/** The configured provider; main.ts calls this once and passes the result to the billing steps. */
export function createProvider(config: ProviderConfig, deps: ProviderDeps): PaymentProvider {
  switch (config.provider) {
    case 'sandbox':
      return createSandboxProvider({ db: deps.db, now: deps.now, timeoutDelayMs: config.timeoutDelayMs });
    case 'stripe':
      return lazyStripeProvider({
        secretKey: config.secretKey,
        apiBase: config.apiBase,
        maxNetworkRetries: config.maxNetworkRetries,
        timeoutMs: config.timeoutMs,
        now: deps.now,
      });
  }
}

/** The provider's event list for the catch-up: Stripe's Events API; the sandbox has none. */
export function createEventSource(config: ProviderConfig): ProviderEventSource | undefined {
  if (config.provider !== 'stripe') return undefined;
  return lazyStripeEventSource({
    secretKey: config.secretKey,
    apiBase: config.apiBase,
    maxNetworkRetries: config.maxNetworkRetries,
    timeoutMs: config.timeoutMs,
  });
}
