import { PermanentError } from '../errors.ts';
import type { Metadata } from './types.ts';

// Stripe's limits, applied to every provider so that what passes the sandbox also passes Stripe.
const MAX_AMOUNT = 99_999_999;
const MAX_KEY_LENGTH = 255;

/** A positive amount in minor units; zero is allowed only where nothing has to move (a free plan). */
export function checkAmount(amount: number, what = 'amount', allowZero = false): void {
  if (!Number.isSafeInteger(amount) || amount < (allowZero ? 0 : 1) || amount > MAX_AMOUNT) {
    throw new PermanentError(
      `${what} must be an integer number of minor units from ${allowZero ? 0 : 1} to ${MAX_AMOUNT} (got ${amount})`,
    );
  }
}

/** Returns the ISO 4217 code in upper case. */
export function checkCurrency(currency: string): string {
  if (!/^[A-Za-z]{3}$/.test(currency)) {
    throw new PermanentError(`currency must be a three-letter ISO 4217 code (got "${currency}")`);
  }
  return currency.toUpperCase();
}

export function checkIdempotencyKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new PermanentError(`an idempotency key of 1 to ${MAX_KEY_LENGTH} characters is required`);
  }
}

/** Both are needed to find a customer again; an empty email would list every customer at Stripe. */
export function checkCustomer(input: { customerId: string; email: string }): void {
  if (!input.customerId) throw new PermanentError('a customer id is required');
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email ?? '')) {
    throw new PermanentError(`a customer email is required (got "${input.email}")`);
  }
}

/** Keys we write ourselves; a caller passing one would break the look-ups. */
export const RESERVED_METADATA = ['billflow_key', 'billflow_customer_id', 'billflow_subscription_id'] as const;

export function checkMetadata(metadata: Metadata | undefined): void {
  for (const key of Object.keys(metadata ?? {})) {
    if ((RESERVED_METADATA as readonly string[]).includes(key)) {
      throw new PermanentError(`metadata key "${key}" is reserved for Billflow's own look-ups`);
    }
  }
}
