import type { Queryable } from '../../db/types.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { METRICS, isMetric, utcDay } from './metrics.ts';
import type { Metric } from './metrics.ts';
import { CONTRIBUTIONS, COUNTED } from './rules.ts';
import type { CountedKind } from './rules.ts';

export interface StatIncrement {
  metric: Metric;
  currency: string;
  /** A count or minor units; negative for a level metric's decrease. */
  amount: number;
  /** The instant the change belongs to; counted on its UTC day. */
  at: Date;
}

// Keys are upserted in one sorted order by every writer, so two transactions incrementing the
// same counters cannot deadlock on each other.
const UPSERT = `
  INSERT INTO stats_daily (metric, currency, day, value)
  SELECT metric, currency, day, value FROM increments ORDER BY metric, currency, day
  ON CONFLICT (metric, currency, day) DO UPDATE SET value = stats_daily.value + EXCLUDED.value`;

/**
 * Adds to daily counters. Call it inside a db step's transaction (`ctx.tx`) so the increment
 * commits exactly once with the step. Increments to the same key are merged first (one statement
 * may not update a row twice). Prefer the `count…` functions below for records: they also make
 * the increment idempotent per record and keep it identical to the recount.
 */
export async function recordStats(q: Queryable, increments: readonly StatIncrement[]): Promise<void> {
  const merged = new Map<string, { metric: Metric; currency: string; day: string; value: number }>();
  for (const inc of increments) {
    if (!isMetric(inc.metric)) throw new Error(`unknown metric ${String(inc.metric)}; known: ${METRICS.join(', ')}`);
    if (!/^[A-Z]{3}$/.test(inc.currency)) throw new Error(`not an ISO 4217 code: ${inc.currency}`);
    if (!Number.isSafeInteger(inc.amount)) throw new RangeError(`stat amounts are integers: ${inc.amount}`);
    const day = utcDay(inc.at);
    const key = `${inc.metric} ${inc.currency} ${day}`;
    const entry = merged.get(key) ?? { metric: inc.metric, currency: inc.currency, day, value: 0 };
    entry.value += inc.amount;
    merged.set(key, entry);
  }
  if (merged.size === 0) return;
  await q.query(
    `WITH increments AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (metric text, currency text, day date, value bigint)
     ) ${UPSERT}`,
    [JSON.stringify([...merged.values()])],
  );
}

export async function recordStat(q: Queryable, increment: StatIncrement): Promise<void> {
  await recordStats(q, [increment]);
}

/**
 * Counts one record into the daily counters, once: the record is marked counted and its
 * contribution upserted in a single statement. Returns false when it was already counted (a
 * second stats step for the same record, e.g. from a duplicate event, adds nothing).
 */
async function countRecord(q: Queryable, kind: CountedKind, id: string): Promise<boolean> {
  const { table, marker, countable } = COUNTED[kind];
  const { rowCount } = await q.query(
    `WITH marked AS (
       UPDATE ${table} SET ${marker} = now() WHERE id = $1 AND ${marker} IS NULL AND ${countable} RETURNING *
     ), increments AS (
       SELECT metric, currency, day, sum(value)::bigint AS value FROM (${CONTRIBUTIONS[kind]('marked')}) c
       GROUP BY metric, currency, day
     ) ${UPSERT}`,
    [id],
    { name: `billflow_count_${kind}` },
  );
  if (rowCount > 0) return true;
  const { rows } = await q.query<{ counted: boolean; countable: boolean }>(
    `SELECT ${marker} IS NOT NULL AS counted, ${countable} AS countable FROM ${table} WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`${table.replace(/s$/, '')} ${id} not found`);
  if (!row.counted && !row.countable)
    throw new ConflictError(`${id} has nothing to count (${countable} does not hold)`);
  return false;
}

/** subscriptions_created +1; subscriptions_active +1 and arr + annual amount from when it pays. */
export function countSubscriptionCreated(q: Queryable, subscriptionId: string): Promise<boolean> {
  return countRecord(q, 'subscription_created', subscriptionId);
}

/** subscriptions_cancelled +1; subscriptions_active −1 and arr − annual amount from when it ends. */
export function countSubscriptionCancelled(q: Queryable, subscriptionId: string): Promise<boolean> {
  return countRecord(q, 'subscription_cancelled', subscriptionId);
}

/** arr + the change of annual amount, from when an applied plan change takes effect. */
export function countPlanChange(q: Queryable, planChangeId: string): Promise<boolean> {
  return countRecord(q, 'plan_change', planChangeId);
}

/** revenue + amount for a succeeded payment; payment_failures +1 for a failed one. */
export function countPayment(q: Queryable, paymentId: string): Promise<boolean> {
  return countRecord(q, 'payment', paymentId);
}

/** refunds + amount. */
export function countRefund(q: Queryable, refundId: string): Promise<boolean> {
  return countRecord(q, 'refund', refundId);
}

/** chargebacks + amount. */
export function countChargeback(q: Queryable, chargebackId: string): Promise<boolean> {
  return countRecord(q, 'chargeback', chargebackId);
}
