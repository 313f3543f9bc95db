import type { Db, Queryable } from '../../db/types.ts';
import { toAmount } from '../records/money.ts';
import { COUNTED, COUNTED_KINDS, recountQuery } from './rules.ts';
import type { CountedKind } from './rules.ts';

function isDb(q: Queryable): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

/**
 * Rebuilds every counter from the records that have been counted (those whose stats step has
 * run); records still waiting for their stats step are left to it, so running this while
 * workflows run neither loses nor doubles anything.
 *
 * It locks the counters table against writers first and then only reads records, so it cannot
 * deadlock with stats steps: they wait for it, it never waits for a record lock. Runs in its own
 * transaction when given the database, in the caller's when given one.
 */
export async function recountStats(q: Queryable): Promise<{ counters: number }> {
  const run = async (tx: Queryable) => {
    await tx.query('LOCK TABLE stats_daily IN EXCLUSIVE MODE');
    await tx.query('DELETE FROM stats_daily');
    const { rowCount } = await tx.query(
      `INSERT INTO stats_daily (metric, currency, day, value)
       SELECT metric, currency, day, value FROM (${recountQuery(true)}) r WHERE value <> 0`,
    );
    return { counters: rowCount };
  };
  return isDb(q) ? q.transaction(run) : run(q);
}

export interface StatDifference {
  metric: string;
  currency: string;
  day: string;
  counted: number;
  recounted: number;
}

export interface StatsComparison {
  /** True when the counters equal a recount of every record: each counted once, none missing. */
  equal: boolean;
  differences: StatDifference[];
  /**
   * Records whose stats step has not run yet, by kind. Normal while runs are in flight; after
   * all runs finished, any here point at a run that stopped before its stats step.
   */
  uncounted: Record<CountedKind, number>;
}

/**
 * Compares the counters with a recount of all records, in one statement (one snapshot), so the
 * answer is consistent even while workflows write. A counter of 0 and a missing one are equal.
 */
export async function compareStats(q: Queryable): Promise<StatsComparison> {
  const [diff, pending] = await Promise.all([
    q.query<{ metric: string; currency: string; day: string; counted: unknown; recounted: unknown }>(
      `WITH recount AS (${recountQuery(false)})
       SELECT coalesce(c.metric, r.metric) AS metric, coalesce(c.currency, r.currency) AS currency,
         coalesce(c.day, r.day)::text AS day, coalesce(c.value, 0) AS counted, coalesce(r.value, 0) AS recounted
       FROM stats_daily c FULL JOIN recount r ON r.metric = c.metric AND r.currency = c.currency AND r.day = c.day
       WHERE coalesce(c.value, 0) <> coalesce(r.value, 0)
       ORDER BY 1, 2, 3`,
    ),
    q.query<Record<CountedKind, number>>(
      `SELECT ${COUNTED_KINDS.map((kind) => {
        const { table, marker, countable } = COUNTED[kind];
        return `(SELECT count(*)::int FROM ${table} WHERE ${marker} IS NULL AND ${countable}) AS ${kind}`;
      }).join(', ')}`,
    ),
  ]);
  const differences = diff.rows.map((d) => ({
    metric: d.metric,
    currency: d.currency,
    day: d.day,
    counted: toAmount(d.counted),
    recounted: toAmount(d.recounted),
  }));
  const uncounted = pending.rows[0] as Record<CountedKind, number>;
  return { equal: differences.length === 0, differences, uncounted };
}
