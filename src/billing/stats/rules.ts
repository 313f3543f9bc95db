import { ANNUAL_AMOUNT_SQL, annualAmountSql } from './recurring.ts';

/**
 * What each record adds to the daily counters, written once as SQL and used both to count a
 * record (in its stats step) and to recount everything from the records. One definition means the
 * two can only disagree if a record was counted twice, missed, or changed after it was counted —
 * exactly what the comparison is for.
 *
 * Each function takes a relation of rows of one table (a table, a subquery or a CTE name) and
 * returns a query of (metric, currency, day, value) rows. Days are UTC dates.
 */
export type CountedKind =
  'subscription_created' | 'subscription_cancelled' | 'plan_change' | 'payment' | 'refund' | 'chargeback';

const day = (expr: string) => `((${expr}) AT TIME ZONE 'UTC')::date`;

// A subscription starts paying when its trial ends (or at its start without one).
const PAYING_FROM = 'coalesce(s.trial_end, s.started_at)';

// What the subscription's creation counted: its amount before any plan change.
const INITIAL_ANNUAL = annualAmountSql('coalesce(s.initial_amount, s.amount)', 's.interval');

export const CONTRIBUTIONS: Record<CountedKind, (relation: string) => string> = {
  /** +1 created on the creation day; +1 active and +ARR on the day it starts paying. */
  subscription_created: (relation) => `
    SELECT v.metric, s.currency, v.day, v.value
    FROM ${relation} s CROSS JOIN LATERAL (VALUES
      ('subscriptions_created', ${day('s.created_at')}, 1::bigint),
      ('subscriptions_active', ${day(PAYING_FROM)}, 1::bigint),
      ('arr', ${day(PAYING_FROM)}, ${INITIAL_ANNUAL}::bigint)
    ) AS v (metric, day, value)`,

  /**
   * +1 cancelled on the day it was requested; −1 active and −ARR on the day it takes effect. A
   * cancellation before paying started (during a trial) undoes the +1 on that same start day, so
   * the two net to zero.
   */
  subscription_cancelled: (relation) => `
    SELECT v.metric, s.currency, v.day, v.value
    FROM ${relation} s CROSS JOIN LATERAL (VALUES
      ('subscriptions_cancelled', ${day('s.cancel_requested_at')}, 1::bigint),
      ('subscriptions_active', ${day(`greatest(s.cancel_at, ${PAYING_FROM})`)}, -1::bigint),
      ('arr', ${day(`greatest(s.cancel_at, ${PAYING_FROM})`)}, -${ANNUAL_AMOUNT_SQL}::bigint)
    ) AS v (metric, day, value)`,

  /**
   * An applied plan change: ARR moves by the difference of the two prices' annual amounts, on the
   * day it takes effect (not before the subscription starts paying). A cancellation after it
   * subtracts the new price, so created + changes + cancelled still nets to zero.
   */
  plan_change: (relation) => `
    SELECT 'arr' AS metric, c.currency,
      ${day(`greatest(c.effective_at, ${PAYING_FROM})`)} AS day,
      (${annualAmountSql('c.to_amount', 'c.interval')} - ${annualAmountSql('c.from_amount', 'c.interval')})::bigint
        AS value
    FROM ${relation} c JOIN subscriptions s ON s.id = c.subscription_id`,

  /** A succeeded payment is revenue (its amount); a failed one is one payment failure. */
  payment: (relation) => `
    SELECT CASE WHEN p.status = 'succeeded' THEN 'revenue' ELSE 'payment_failures' END AS metric,
      p.currency, ${day('p.created_at')} AS day,
      CASE WHEN p.status = 'succeeded' THEN p.amount ELSE 1 END::bigint AS value
    FROM ${relation} p`,

  /** The refunded amount, on the day the refund was recorded (a failed or cancelled refund is none). */
  refund: (relation) => `
    SELECT 'refunds' AS metric, r.currency, ${day('r.created_at')} AS day, r.amount::bigint AS value
    FROM ${relation} r`,

  /** The disputed amount, on the day the dispute arrived (its outcome does not change it). */
  chargeback: (relation) => `
    SELECT 'chargebacks' AS metric, c.currency, ${day('c.created_at')} AS day, c.amount::bigint AS value
    FROM ${relation} c`,
};

/** Where each kind's records live and which column marks them as counted. */
export const COUNTED: Record<CountedKind, { table: string; marker: string; countable: string }> = {
  subscription_created: { table: 'subscriptions', marker: 'counted_at', countable: 'true' },
  subscription_cancelled: { table: 'subscriptions', marker: 'cancel_counted_at', countable: 'cancel_at IS NOT NULL' },
  plan_change: { table: 'subscription_plan_changes', marker: 'counted_at', countable: 'applied_at IS NOT NULL' },
  payment: { table: 'payments', marker: 'counted_at', countable: 'true' },
  refund: { table: 'refunds', marker: 'counted_at', countable: "status NOT IN ('failed', 'cancelled')" },
  chargeback: { table: 'chargebacks', marker: 'counted_at', countable: 'true' },
};

export const COUNTED_KINDS = Object.keys(COUNTED) as CountedKind[];

/** Every record's contribution, summed per key; `onlyCounted` limits it to records already counted. */
export function recountQuery(onlyCounted: boolean): string {
  const parts = COUNTED_KINDS.map((kind) => {
    const { table, marker, countable } = COUNTED[kind];
    const filter = onlyCounted ? `${marker} IS NOT NULL` : countable;
    return CONTRIBUTIONS[kind](`(SELECT * FROM ${table} WHERE ${filter})`);
  });
  return `SELECT metric, currency, day, sum(value)::bigint AS value
    FROM (${parts.join('\n    UNION ALL ')}) contributions
    GROUP BY metric, currency, day`;
}
