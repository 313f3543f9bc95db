import Stripe from 'stripe';
import { PermanentError, RetryableError } from '../errors.ts';

/**
 * Sorts what the Stripe SDK threw into the engine's two kinds. Transient: no connection, a
 * timeout, rate limiting (429), a conflicting concurrent request (409) or a server error (5xx).
 * Permanent: everything else Stripe answered (an invalid request, a missing object, bad keys,
 * a card error outside a charge) — the same request would get the same answer. Card declines
 * of a charge never get here: they are a failed charge result.
 */
export function providerError(error: unknown, action: string): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error; // ours, not Stripe's: let it show as it is
  const status = error.statusCode;
  // rawType is Stripe's word (idempotency_error); `type` is only the SDK's class name.
  const detail = [error.rawType ?? error.type, error.code, error.requestId].filter(Boolean).join(', ');
  const message = `Stripe: ${action} failed: ${error.message}${detail ? ` (${detail})` : ''}`;
  const transient =
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    status === undefined ||
    status === 409 ||
    status === 429 ||
    status >= 500;
  return transient ? new RetryableError(message, { cause: error }) : new PermanentError(message, { cause: error });
}

/** Runs one SDK call (or a whole paginated walk) with its errors sorted. */
export async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw providerError(error, action);
  }
}

export function isCardError(error: unknown): error is Stripe.errors.StripeCardError {
  return error instanceof Stripe.errors.StripeCardError;
}
