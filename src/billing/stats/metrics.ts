/**
 * The daily counters, per metric and currency; days are UTC dates.
 *
 * Flow metrics hold the day's total: counts (subscriptions_created, subscriptions_cancelled,
 * payment_failures) or amounts in minor units (revenue = succeeded payments, refunds,
 * chargebacks = disputed amounts; net revenue is revenue − refunds − chargebacks).
 *
 * Level metrics hold the day's net change, so their value on a day is the running sum up to it:
 * `subscriptions_active` (paying subscriptions) and `arr` (annualized recurring revenue in minor
 * units; MRR is derived from it, see recurring.ts). A change is booked on the day it takes effect,
 * which may be in the future (a trial that ends next week, a cancellation at period end).
 */
export const FLOW_METRICS = [
  'subscriptions_created',
  'subscriptions_cancelled',
  'revenue',
  'refunds',
  'chargebacks',
  'payment_failures',
] as const;
export const LEVEL_METRICS = ['subscriptions_active', 'arr'] as const;
export const METRICS = [...FLOW_METRICS, ...LEVEL_METRICS] as const;

export type FlowMetric = (typeof FLOW_METRICS)[number];
export type LevelMetric = (typeof LEVEL_METRICS)[number];
export type Metric = FlowMetric | LevelMetric;

/** What a time series can show: the stored metrics, plus MRR derived from `arr`. */
export const SERIES_METRICS = [...METRICS, 'mrr'] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];

export function isMetric(value: string): value is Metric {
  return (METRICS as readonly string[]).includes(value);
}

export function isLevelMetric(metric: SeriesMetric): metric is LevelMetric | 'mrr' {
  return metric === 'mrr' || (LEVEL_METRICS as readonly string[]).includes(metric);
}

/** The UTC day of an instant, as the counters key it: 2026-01-31. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
