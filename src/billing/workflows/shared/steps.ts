// Small pieces the billing workflows share: retry policies, dates in outputs, order per customer.
import type { ConcurrencyPolicy, RetryPolicy } from '../../../engine/index.ts';

/**
 * Calls out (payment providers, mail servers, Slack): a 5xx or a network error usually clears
 * within minutes; provider calls are keyed and looked up on re-run and each message send is
 * recorded, so retrying never acts twice unannounced. A 4xx is a PermanentError: no retry.
 */
export const EXTERNAL_RETRY: Partial<RetryPolicy> = {
  maxAttempts: 5,
  initialDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  factor: 3,
  jitter: 0.25,
};

/** Db steps only fail on contention or a lost connection: retry soon. */
export const DB_RETRY: Partial<RetryPolicy> = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 };

/** ISO text for a date, as step outputs and template data carry them. */
export function iso(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  return (date instanceof Date ? date : new Date(date)).toISOString();
}

/**
 * Every workflow's runs about one customer execute one at a time, in start order: a cancellation
 * never reaches the provider before the creation it cancels, a refund never races its payment,
 * dunning never charges while a cancellation is half done. A run parked on a durable wait (an
 * invoice awaiting payment, dunning between attempts) lets the customer's other runs go
 * meanwhile and takes its turn again when it wakes. Every start names the customer as its owner.
 */
export const ONE_RUN_PER_CUSTOMER: ConcurrencyPolicy<unknown> = {
  key: (_input, refs) => (refs.ownerRef ? `customer:${refs.ownerRef}` : undefined),
  holdWhileWaiting: false,
};
