import type { Db, Queryable } from '../db/types.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import { PERMANENT_FAILURE_SQL } from './bulk.ts';

export const RUN_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What an in_progress run is doing right now ('queued': due, waiting for a worker). */
export type RunActivity = 'running' | 'retrying' | 'waiting' | 'queued' | null;

export interface RunSummary {
  id: string;
  type: string;
  status: RunStatus;
  activity: RunActivity;
  /** For retrying/waiting: when it runs next; for running: when the lease expires. */
  activity_until: Date | null;
  current_step: string | null;
  step_index: number;
  step_count: number;
  attempt: number;
  subject_ref: string | null;
  owner_ref: string | null;
  /** Runs with the same key execute one at a time, in start order. */
  concurrency_key: string | null;
  /** For a queued run: the run of its key it waits for (the one running, or the one ahead). */
  waiting_for: string | null;
  outcome: string | null;
  failed_step: string | null;
  error: unknown;
  created_at: Date;
  started_at: Date | null;
  updated_at: Date;
  finished_at: Date | null;
  /** When a failed run failed (the inbox's order); null while it is not failed. */
  failed_at: Date | null;
}

export interface StepView {
  index: number;
  name: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'retrying' | 'waiting' | 'skipped';
  attempts: unknown[];
  output: unknown;
  state: unknown;
  error: unknown;
  note: string | null;
  idempotency_key: string;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface RunEvent {
  id: number;
  action: string;
  actor: string;
  reason: string | null;
  detail: Record<string, unknown>;
  created_at: Date;
}

export interface RunDetail extends RunSummary {
  input: unknown;
  steps: StepView[];
  idempotency_key: string | null;
  events: RunEvent[];
}

const SUMMARY_COLUMNS = `
  id, type, status,
  CASE WHEN status <> 'in_progress' THEN NULL
       WHEN lease_owner IS NOT NULL THEN 'running'
       WHEN wait_reason = 'retry' THEN 'retrying'
       WHEN wait_reason = 'timer' THEN 'waiting'
       ELSE 'queued' END AS activity,
  CASE WHEN status IN ('in_progress', 'pending') THEN run_at END AS activity_until,
  steps[step_index + 1] AS current_step, step_index, cardinality(steps) AS step_count, attempt,
  subject_ref, owner_ref, concurrency_key,
  CASE WHEN concurrency_key IS NOT NULL AND lease_owner IS NULL AND wait_reason IS NULL
            AND status IN ('pending', 'in_progress')
       THEN billflow_waiting_for(id, concurrency_key, key_seq) END AS waiting_for,
  outcome, failed_step, error, created_at, started_at, updated_at, finished_at,
  CASE WHEN status = 'failed' THEN failed_at END AS failed_at`;

export async function getRun(q: Queryable, runId: string): Promise<RunDetail> {
  const { rows } = await q.query<RunSummary & { input: unknown; steps: string[]; idempotency_key: string | null }>(
    `SELECT ${SUMMARY_COLUMNS}, input, steps, idempotency_key FROM workflow_runs WHERE id = $1`,
    [runId],
  );
  const run = rows[0];
  if (!run) throw new NotFoundError(`workflow run ${runId} not found`);
  const [stepRows, events] = await Promise.all([
    q.query<Omit<StepView, 'index' | 'idempotency_key'> & { step_index: number }>(
      `SELECT step_index, name, status, attempts, output, state, error, note, started_at, finished_at
       FROM workflow_steps WHERE run_id = $1 ORDER BY step_index`,
      [runId],
    ),
    q.query<RunEvent>(
      `SELECT id::int AS id, action, actor, reason, detail, created_at
       FROM workflow_run_events WHERE run_id = $1 ORDER BY id`,
      [runId],
    ),
  ]);
  const byIndex = new Map(stepRows.rows.map((s) => [s.step_index, s]));
  const steps: StepView[] = run.steps.map((name, index) => {
    const row = byIndex.get(index);
    const running = run.activity === 'running' && index === run.step_index;
    return {
      index,
      name,
      status: running ? 'running' : (row?.status ?? 'pending'),
      attempts: row?.attempts ?? [],
      output: row?.output ?? null,
      state: row?.state ?? null,
      error: row?.error ?? null,
      note: row?.note ?? null,
      idempotency_key: `${run.id}:${name}`,
      started_at: row?.started_at ?? null,
      finished_at: row?.finished_at ?? null,
    };
  });
  return { ...run, steps, events: events.rows };
}

export interface RunFilter {
  /** One run by its id (a search for a run id). */
  id?: string;
  type?: string;
  status?: RunStatus;
  subjectRef?: string;
  ownerRef?: string;
  /** Runs of any of these owners (e.g. the customers whose email starts with what was typed). */
  ownerRefs?: string[];
  failedStep?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  /** Failed runs whose error was permanent (true) or not (false); see PERMANENT_FAILURE_SQL. */
  permanent?: boolean;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return value as [string, string];
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError([{ field: 'cursor', message: 'not a cursor returned by this list' }]);
}

export const RUN_SORTS = ['created_desc', 'created_asc', 'failed_desc', 'failed_asc'] as const;
/** Newest or oldest first by creation, or by failure time (failed runs only: the inbox). */
export type RunSort = (typeof RUN_SORTS)[number];

/**
 * Newest first (or as `sort` says), keyset-paginated on (the sort's time, id) so deep pages cost
 * the same as the first. A cursor belongs to the sort it was returned with.
 */
/** The WHERE conditions of a run filter, their values appended to `params`. */
function filterWhere(filter: RunFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (filter.id) add('id = ?', filter.id);
  if (filter.type) add('type = ?', filter.type);
  if (filter.status) add('status = ?', filter.status);
  if (filter.subjectRef) add('subject_ref = ?', filter.subjectRef);
  if (filter.ownerRef) add('owner_ref = ?', filter.ownerRef);
  if (filter.ownerRefs) add('owner_ref = ANY(?::text[])', filter.ownerRefs);
  if (filter.failedStep) add(`status = 'failed' AND failed_step = ?`, filter.failedStep);
  if (filter.createdAfter) add('created_at >= ?', filter.createdAfter);
  if (filter.createdBefore) add('created_at < ?', filter.createdBefore);
  if (filter.permanent !== undefined) {
    where.push(`status = 'failed' AND ${filter.permanent ? '' : 'NOT '}coalesce(${PERMANENT_FAILURE_SQL}, false)`);
  }
  return where;
}

/**
 * How many runs match, counted up to `cap` (a search's "1,000+"): the count stops reading there,
 * so it costs at most `cap` index entries whatever the history.
 */
export async function countMatchingRuns(
  q: Queryable,
  filter: RunFilter,
  cap: number,
): Promise<{ count: number; capped: boolean }> {
  const params: unknown[] = [];
  const where = filterWhere(filter, params);
  params.push(cap + 1);
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM workflow_runs
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} LIMIT $${params.length}) matched`,
    params,
  );
  const n = rows[0]?.n ?? 0;
  return n > cap ? { count: cap, capped: true } : { count: n, capped: false };
}

export async function listRuns(
  q: Queryable,
  filter: RunFilter,
  page: { limit?: number; cursor?: string; sort?: RunSort } = {},
): Promise<Page<RunSummary>> {
  const sort = page.sort ?? 'created_desc';
  if (!RUN_SORTS.includes(sort)) {
    throw new InvalidInputError([{ field: 'sort', message: `must be one of ${RUN_SORTS.join(', ')}` }]);
  }
  const byFailure = sort === 'failed_desc' || sort === 'failed_asc';
  if (byFailure && filter.status !== 'failed') {
    throw new InvalidInputError([{ field: 'sort', message: 'sorting by failure time needs status failed' }]);
  }
  // ORDER BY names the table's column: a bare failed_at would be the output column of that name
  // (SUMMARY_COLUMNS' CASE), which no index can return in order: a sort of every failed run.
  const key = byFailure ? 'failed_at' : 'created_at';
  const descending = sort.endsWith('_desc');
  const limit = page.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new InvalidInputError([{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
  }
  if (filter.status && !RUN_STATUSES.includes(filter.status)) {
    throw new InvalidInputError([{ field: 'status', message: `must be one of ${RUN_STATUSES.join(', ')}` }]);
  }
  const params: unknown[] = [];
  const where = filterWhere(filter, params);
  if (page.cursor) {
    const [at, id] = decodeCursor(page.cursor);
    params.push(at, id);
    where.push(`(${key}, id) ${descending ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(limit + 1);
  const direction = descending ? 'DESC' : 'ASC';
  const { rows } = await q.query<RunSummary & { cursor_at: string }>(
    `SELECT ${SUMMARY_COLUMNS}, ${key}::text AS cursor_at FROM workflow_runs
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY workflow_runs.${key} ${direction}, id ${direction} LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ cursor_at: _, ...run }) => run),
    next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_at, last.id) : null,
  };
}

/**
 * Runs per type and status, for menus and badges: read from the counters that triggers keep
 * (migration 0016), so the cost does not grow with history. Exactly what a GROUP BY over
 * workflow_runs would return in the same snapshot; types and statuses without runs are absent.
 */
export async function countRuns(q: Queryable): Promise<{ type: string; status: RunStatus; count: number }[]> {
  const { rows } = await q.query<{ type: string; status: RunStatus; count: number }>(
    `SELECT type, status, sum(count)::int AS count FROM workflow_run_counts
     GROUP BY type, status HAVING sum(count) <> 0 ORDER BY type, status`,
  );
  return rows;
}

/**
 * Folds the counters' rows into one per type and status (every status change appends rows), and
 * gives the folded rows' space back. Safe to call from every worker
 * process at once. Returns how many rows were folded.
 */
export async function compactRunCounts(db: Db): Promise<number> {
  const { rows } = await db.query<{ folded: number }>('SELECT billflow_compact_run_counts() AS folded');
  const folded = rows[0]?.folded ?? 0;
  // The embedded database has no autovacuum: without this the table would keep every folded row's
  // space, and reads would scan it. A few pages, so cheap; SKIP_LOCKED: another process's is as good.
  if (folded > 0) await db.exec('VACUUM (SKIP_LOCKED) workflow_run_counts');
  return folded;
}
