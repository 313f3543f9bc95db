import type { RefundMode } from './subscriptions.ts';

/**
 * The unused share of `amount` paid for the period [start, end) when the service stops at `at`:
 * amount × (end − at) / (end − start), with time measured in milliseconds.
 *
 * Rounding: down to the minor unit. The customer never gets back more than the exact unused
 * share, the merchant keeps at most one minor unit of rounding, and the result is monotonic in
 * `at` (later cancellation → never a larger refund). The product is taken in BigInt because
 * amount × milliseconds passes 2^53 for ordinary values (a year is 3.2·10^10 ms).
 */
export function prorate(amount: number, start: Date, end: Date, at: Date): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`not an amount: ${amount}`);
  const length = end.getTime() - start.getTime();
  if (!(length > 0)) throw new RangeError('the period must end after it starts');
  const unused = Math.min(Math.max(end.getTime() - at.getTime(), 0), length);
  return Number((BigInt(amount) * BigInt(unused)) / BigInt(length));
}

export interface CancellationRefundArgs {
  refund: RefundMode;
  /** Effective cancellation time. */
  cancelAt: Date;
  subscription: { current_period_start: Date; current_period_end: Date; trial_end: Date | null };
  /** The subscription's last succeeded payment (what paid for the current period), if any. */
  payment?: { amount: number; refunded_amount: number };
}

/**
 * What a cancellation refunds: nothing; the whole last payment; or the unused share of the current
 * period of the last payment. Never more than the payment still has refundable, and nothing for a
 * cancellation during a trial (no money was taken for it).
 */
export function cancellationRefundAmount(args: CancellationRefundArgs): number {
  const { payment, subscription } = args;
  if (args.refund === 'none' || !payment) return 0;
  const refundable = Math.max(payment.amount - payment.refunded_amount, 0);
  if (args.refund === 'full') return refundable;
  if (subscription.trial_end && args.cancelAt < subscription.trial_end) return 0;
  const share = prorate(
    payment.amount,
    subscription.current_period_start,
    subscription.current_period_end,
    args.cancelAt,
  );
  return Math.min(share, refundable);
}
