// Run activity over time: how many runs were created per hour, by status (dashboard charts).
import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import type { RunStatus } from './history.ts';

/** The longest range one call may cover: 7 days of hourly buckets stay a small answer. */
export const MAX_ACTIVITY_RANGE_MS = 7 * 86_400_000;

export interface ActivityRange {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  type?: string;
}

export interface HourlyRunCount {
  /** Start of the UTC hour. */
  hour: Date;
  status: RunStatus;
  count: number;
}

/** Runs created in [from, to) per UTC hour and status, oldest hour first; empty hours are absent. */
export async function countRunsPerHour(q: Queryable, range: ActivityRange): Promise<HourlyRunCount[]> {
  if (range.to.getTime() <= range.from.getTime()) {
    throw new InvalidInputError([{ field: 'to', message: 'must be after from' }]);
  }
  if (range.to.getTime() - range.from.getTime() > MAX_ACTIVITY_RANGE_MS) {
    throw new InvalidInputError([{ field: 'to', message: 'must be at most 7 days after from' }]);
  }
  // date_bin on absolute time from a UTC midnight: UTC hours whatever the session's time zone, and
  // cheaper per row than converting to UTC and back. The range is read from the index on
  // created_at that carries status and type (migration 0016), not from the table.
  const { rows } = await q.query<HourlyRunCount>(
    `SELECT date_bin('1 hour', created_at, timestamptz '2000-01-01T00:00:00Z') AS hour, status,
            count(*)::int AS count
     FROM workflow_runs
     WHERE created_at >= $1 AND created_at < $2 AND ($3::text IS NULL OR type = $3)
     GROUP BY 1, 2 ORDER BY 1, 2`,
    [range.from, range.to, range.type ?? null],
  );
  return rows;
}
