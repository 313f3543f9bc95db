// Billing statistics: exact daily counters written inside db steps, recurring revenue from the
// subscriptions, a recount from the records to check the counters against, and the customer
// lifecycle status.
export * from './metrics.ts';
export {
  recordStat,
  recordStats,
  countSubscriptionCreated,
  countSubscriptionCancelled,
  countPlanChange,
  countPayment,
  countRefund,
  countChargeback,
} from './record.ts';
export type { StatIncrement } from './record.ts';
export { annualAmount, mrrFromArr, monthlyAmount, recurringRevenue } from './recurring.ts';
export type { RecurringRevenue } from './recurring.ts';
export { recountStats, compareStats } from './recount.ts';
export type { StatDifference, StatsComparison } from './recount.ts';
export type { CountedKind } from './rules.ts';
export { statsSummary, timeseries, MAX_SERIES_DAYS } from './summary.ts';
export type { CurrencySummary, StatsSummary, SeriesPoint, Timeseries } from './summary.ts';
export { nextCustomerStatus, refreshCustomerStatus } from './lifecycle.ts';
export type { StatusChange, SubscriptionPresence } from './lifecycle.ts';
