import type { Queryable } from '../../db/types.ts';
import { InvalidInputError } from '../../errors.ts';
import { toAmount } from '../records/money.ts';
import { CUSTOMER_STATUSES } from '../records/customers.ts';
import type { CustomerStatus } from '../records/customers.ts';
import { FLOW_METRICS, SERIES_METRICS, isLevelMetric, utcDay } from './metrics.ts';
import type { FlowMetric, SeriesMetric } from './metrics.ts';
import { mrrFromArr, recurringRevenue } from './recurring.ts';

export interface CurrencySummary {
  currency: string;
  mrr: number;
  arr: number;
  active_subscriptions: number;
  trialing_subscriptions: number;
  /** Flow totals over the summary's window, in minor units or counts. */
  revenue: number;
  refunds: number;
  chargebacks: number;
  /** revenue − refunds − chargebacks */
  net_revenue: number;
  payment_failures: number;
  subscriptions_created: number;
  subscriptions_cancelled: number;
}

export interface StatsSummary {
  as_of: Date;
  /** First day of the window of the flow totals (null: since the beginning). */
  since: string | null;
  active_subscriptions: number;
  currencies: CurrencySummary[];
  customers: Record<CustomerStatus, number>;
}

/**
 * The dashboard: MRR, ARR and subscription counts now (from the subscriptions), flow totals per
 * currency (from the daily counters, all time or since a day) and customers per lifecycle status.
 * Amounts in different currencies are never added together.
 */
export async function statsSummary(q: Queryable, options: { now?: Date; since?: Date } = {}): Promise<StatsSummary> {
  const now = options.now ?? new Date();
  const since = options.since ? utcDay(options.since) : null;
  const [recurring, flows, customers] = await Promise.all([
    recurringRevenue(q, now),
    q.query<{ currency: string; metric: FlowMetric; value: unknown }>(
      `SELECT currency, metric, sum(value)::bigint AS value FROM stats_daily
       WHERE metric = ANY($1::text[]) AND ($2::date IS NULL OR day >= $2::date) AND day <= $3::date
       GROUP BY currency, metric`,
      [`{${FLOW_METRICS.join(',')}}`, since, utcDay(now)],
    ),
    q.query<{ status: CustomerStatus; n: number }>('SELECT status, count(*)::int AS n FROM customers GROUP BY status'),
  ]);
  const byCurrency = new Map<string, CurrencySummary>();
  const entry = (currency: string): CurrencySummary => {
    const found = byCurrency.get(currency) ?? emptySummary(currency);
    byCurrency.set(currency, found);
    return found;
  };
  for (const r of recurring) Object.assign(entry(r.currency), r);
  for (const f of flows.rows) entry(f.currency)[f.metric] = toAmount(f.value);
  for (const c of byCurrency.values()) c.net_revenue = c.revenue - c.refunds - c.chargebacks;
  const counts = Object.fromEntries(CUSTOMER_STATUSES.map((s) => [s, 0])) as Record<CustomerStatus, number>;
  for (const c of customers.rows) counts[c.status] = c.n;
  return {
    as_of: now,
    since,
    active_subscriptions: recurring.reduce((n, r) => n + r.active_subscriptions, 0),
    currencies: [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    customers: counts,
  };
}

function emptySummary(currency: string): CurrencySummary {
  return {
    currency,
    mrr: 0,
    arr: 0,
    active_subscriptions: 0,
    trialing_subscriptions: 0,
    revenue: 0,
    refunds: 0,
    chargebacks: 0,
    net_revenue: 0,
    payment_failures: 0,
    subscriptions_created: 0,
    subscriptions_cancelled: 0,
  };
}

export interface SeriesPoint {
  day: string;
  value: number;
}

export interface Timeseries {
  metric: SeriesMetric;
  from: string;
  to: string;
  /** One series per currency with data, a point for every day (0 where nothing happened). */
  series: { currency: string; points: SeriesPoint[] }[];
}

export const MAX_SERIES_DAYS = 3660;

function parseDay(value: Date | string, field: string): string {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return utcDay(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))) {
    return value;
  }
  throw new InvalidInputError([{ field, message: 'must be a date, YYYY-MM-DD' }]);
}

/**
 * A metric per UTC day over [from, to], both included. Flow metrics give each day's total; level
 * metrics (subscriptions_active, arr, and mrr = arr / 12 rounded per day) give the level at the
 * end of each day, carried in from everything before `from`.
 */
export async function timeseries(
  q: Queryable,
  metric: SeriesMetric,
  from: Date | string,
  to: Date | string,
  options: { currency?: string } = {},
): Promise<Timeseries> {
  if (!SERIES_METRICS.includes(metric)) {
    throw new InvalidInputError([{ field: 'metric', message: `must be one of ${SERIES_METRICS.join(', ')}` }]);
  }
  const first = parseDay(from, 'from');
  const last = parseDay(to, 'to');
  const days = (Date.parse(last) - Date.parse(first)) / 86_400_000 + 1;
  if (days < 1) throw new InvalidInputError([{ field: 'to', message: 'must not be before from' }]);
  if (days > MAX_SERIES_DAYS) {
    throw new InvalidInputError([{ field: 'to', message: `at most ${MAX_SERIES_DAYS} days after from` }]);
  }
  const stored = metric === 'mrr' ? 'arr' : metric;
  const { rows } = await q.query<{ currency: string; day: string; value: unknown; level: unknown }>(
    `WITH days AS (
       SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') d
     ), currencies AS (
       SELECT DISTINCT currency FROM stats_daily
       WHERE metric = $1 AND day <= $3::date AND ($4::text IS NULL OR currency = $4)
     ), carried AS (
       SELECT currency, sum(value) AS value FROM stats_daily WHERE metric = $1 AND day < $2::date GROUP BY currency
     )
     SELECT c.currency, d.day::text AS day, coalesce(s.value, 0) AS value,
       (coalesce(max(k.value) OVER w, 0) + sum(coalesce(s.value, 0)) OVER w)::bigint AS level
     FROM currencies c CROSS JOIN days d
     LEFT JOIN stats_daily s ON s.metric = $1 AND s.currency = c.currency AND s.day = d.day
     LEFT JOIN carried k ON k.currency = c.currency
     WINDOW w AS (PARTITION BY c.currency ORDER BY d.day)
     ORDER BY c.currency, d.day`,
    [stored, first, last, options.currency ?? null],
  );
  const level = isLevelMetric(metric);
  const series = new Map<string, SeriesPoint[]>();
  for (const row of rows) {
    const raw = toAmount(level ? row.level : row.value);
    const points = series.get(row.currency) ?? [];
    points.push({ day: row.day, value: metric === 'mrr' ? mrrFromArr(raw) : raw });
    series.set(row.currency, points);
  }
  return { metric, from: first, to: last, series: [...series].map(([currency, points]) => ({ currency, points })) };
}
