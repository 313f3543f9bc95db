import { ConfigError } from '../config.ts';
import type { ProviderName } from './types.ts';

export type ProviderConfig =
  | { provider: 'sandbox'; timeoutDelayMs?: number }
  | {
      provider: 'stripe';
      /** A secret (sk_…) or restricted (rk_…) key. Never log this object. */
      secretKey: string;
      apiBase?: string;
      maxNetworkRetries?: number;
      timeoutMs?: number;
    };

type Env = Record<string, string | undefined>;

const PROVIDERS: ProviderName[] = ['sandbox', 'stripe'];

/**
 * Reads BILLFLOW_PAYMENT_PROVIDER (sandbox by default), STRIPE_SECRET_KEY and STRIPE_API_BASE
 * (another API base than Stripe's, for tests). A bad value is refused by name, never guessed.
 */
export function readProviderConfig(env: Env): ProviderConfig {
  const provider = env.BILLFLOW_PAYMENT_PROVIDER || 'sandbox';
  if (!(PROVIDERS as string[]).includes(provider)) {
    throw new ConfigError(`BILLFLOW_PAYMENT_PROVIDER must be one of ${PROVIDERS.join(', ')} (got "${provider}")`);
  }
  if (provider === 'sandbox') return { provider };
  const secretKey = env.STRIPE_SECRET_KEY ?? '';
  if (!/^(sk|rk)_(test|live)_\w+$/.test(secretKey)) {
    throw new ConfigError(
      'STRIPE_SECRET_KEY must be set to a Stripe secret or restricted key (sk_… or rk_…) when BILLFLOW_PAYMENT_PROVIDER=stripe',
    );
  }
  const apiBase = env.STRIPE_API_BASE || undefined;
  if (apiBase !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(apiBase);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      (url.pathname !== '/' && url.pathname !== '')
    ) {
      throw new ConfigError(
        `STRIPE_API_BASE must be an http(s) URL with no path, like http://127.0.0.1:12111 (got "${apiBase}")`,
      );
    }
  }
  return { provider: 'stripe', secretKey, apiBase };
}
