import type { Queryable } from '../../db/types.ts';
import type { Interval } from '../records/plans.ts';
import { toAmount } from '../records/money.ts';

/**
 * Recurring revenue in integer minor units.
 *
 * ARR is kept exact: a subscription's annualized amount is monthly × 12, weekly × 52, yearly × 1,
 * all integers. MRR is ARR / 12 — which is "monthly as-is, weekly × 52/12, yearly / 12" — rounded
 * half away from zero ONCE, on the total of a currency, never per subscription. Rounding each
 * subscription first would drift: three weekly plans of 1 cent are 13 cents a month (156/12),
 * not 3 × round(4.33) = 12. So MRR × 12 may differ from ARR by less than 12 minor units.
 */
export function annualAmount(amount: number, interval: Interval): number {
  const perYear = interval === 'week' ? 52 : interval === 'month' ? 12 : 1;
  const annual = amount * perYear;
  if (!Number.isSafeInteger(annual)) throw new RangeError(`amount out of range: ${amount}`);
  return annual;
}

/** MRR from an ARR total: ARR / 12, rounded half away from zero (changes can be negative). */
export function mrrFromArr(arr: number): number {
  if (!Number.isSafeInteger(arr)) throw new RangeError(`not an integer: ${arr}`);
  // Quotient and remainder rather than a float division, which is inexact near 2^53.
  const abs = Math.abs(arr);
  const remainder = abs % 12;
  const magnitude = (abs - remainder) / 12 + (remainder >= 6 ? 1 : 0);
  return arr < 0 && magnitude > 0 ? -magnitude : magnitude;
}

/** One subscription's share, for display next to it; totals must use `mrrFromArr` of the sum. */
export function monthlyAmount(amount: number, interval: Interval): number {
  return mrrFromArr(annualAmount(amount, interval));
}

/** The same annualization in SQL, for a subscriptions row aliased `s`. Tested against the above. */
export const ANNUAL_AMOUNT_SQL = annualAmountSql('s.amount', 's.interval');

/** The annualization of any amount and interval expressions (a plan change's old and new price). */
export function annualAmountSql(amount: string, interval: string): string {
  return `(CASE ${interval} WHEN 'week' THEN ${amount} * 52 WHEN 'month' THEN ${amount} * 12
  ELSE ${amount} END)`;
}

/**
 * Whether subscription `s` pays at instant `$n`: past its trial (or without one) and not yet at
 * its cancellation. Decided by timestamps, not by `status`, so it is right before anything has
 * flipped the status; `status <> 'cancelled'` only lets the partial index skip the dead ones.
 */
export function payingAt(param: string): string {
  return `(s.status <> 'cancelled' AND coalesce(s.trial_end, s.started_at) <= ${param}
    AND (s.cancel_at IS NULL OR s.cancel_at > ${param}))`;
}

/** Whether subscription `s` is in its trial at instant `$n`. */
export function trialingAt(param: string): string {
  return `(s.status <> 'cancelled' AND s.started_at <= ${param} AND s.trial_end > ${param}
    AND (s.cancel_at IS NULL OR s.cancel_at > ${param}))`;
}

export interface RecurringRevenue {
  currency: string;
  mrr: number;
  arr: number;
  active_subscriptions: number;
  trialing_subscriptions: number;
}

/**
 * MRR, ARR and counts per currency at `at`, from the subscriptions themselves. Meant for the
 * present: a subscription whose status already says cancelled is skipped whatever `at` is (the
 * daily counters give the past).
 */
export async function recurringRevenue(q: Queryable, at: Date = new Date()): Promise<RecurringRevenue[]> {
  const { rows } = await q.query<{ currency: string; arr: unknown; active: number; trialing: number }>(
    `SELECT s.currency,
       coalesce(sum(${ANNUAL_AMOUNT_SQL}) FILTER (WHERE ${payingAt('$1')}), 0)::bigint AS arr,
       (count(*) FILTER (WHERE ${payingAt('$1')}))::int AS active,
       (count(*) FILTER (WHERE ${trialingAt('$1')}))::int AS trialing
     FROM subscriptions s
     WHERE s.status <> 'cancelled'
     GROUP BY s.currency
     ORDER BY s.currency`,
    [at],
  );
  return rows
    .filter((r) => r.active > 0 || r.trialing > 0)
    .map((r) => {
      const arr = toAmount(r.arr);
      return {
        currency: r.currency,
        mrr: mrrFromArr(arr),
        arr,
        active_subscriptions: r.active,
        trialing_subscriptions: r.trialing,
      };
    });
}
