import type { Db, Queryable } from '../db/types.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import { newId } from '../ids.ts';

export interface FailedRunFilter {
  type?: string;
  failedStep?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  /** Runs of one owner (the `ownerRef` they were started with). */
  ownerRef?: string;
  /**
   * Also runs whose error was permanent (`retryable: false`: a declined card, a bug, invalid
   * input), which a restart repeats unless something was fixed. Left out unless asked.
   */
  includePermanent?: boolean;
}

/** A failed run's error said it cannot change on retry. Errors recorded without the flag count as retryable. */
export const PERMANENT_FAILURE_SQL = `(error ->> 'retryable') = 'false'`;

export interface BulkRestartRequest {
  filter: FailedRunFilter;
  /** Count only; changes nothing. */
  dryRun: boolean;
  /** Shown in the operations list, e.g. "SMTP outage 2026-11-25". */
  name?: string;
  reason: string;
  actor: string;
}

export interface BulkRestartResult {
  matched: number;
  /** Failed runs the filter matched but left out because their error was permanent. */
  permanentExcluded: number;
  operationId?: string;
}

function filterSql(filter: FailedRunFilter, params: unknown[]): string {
  const where = [`status = 'failed'`];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.type) add('type = ?', filter.type);
  if (filter.failedStep) add('failed_step = ?', filter.failedStep);
  if (filter.createdAfter) add('created_at >= ?', filter.createdAfter);
  if (filter.createdBefore) add('created_at < ?', filter.createdBefore);
  if (filter.ownerRef) add('owner_ref = ?', filter.ownerRef);
  return where.join(' AND ');
}

/** The filter's runs that a bulk restart takes: without permanent failures unless asked. */
const taken = (filter: FailedRunFilter) =>
  filter.includePermanent ? 'true' : `NOT coalesce(${PERMANENT_FAILURE_SQL}, false)`;

/**
 * Restarts every failed run matching the filter. A dry run only counts. A real one snapshots the
 * matching runs into an operation; workers then restart them a batch per poll tick (throttled),
 * each at most once, and only if it is still failed then.
 */
export async function bulkRestart(db: Db, request: BulkRestartRequest): Promise<BulkRestartResult> {
  if (!request.reason?.trim()) throw new InvalidInputError([{ field: 'reason', message: 'a reason is required' }]);
  const params: unknown[] = [];
  const where = filterSql(request.filter, params);
  const take = taken(request.filter);
  if (request.dryRun) {
    const { rows } = await db.query<{ n: number; left_out: number }>(
      `SELECT count(*) FILTER (WHERE ${take})::int AS n, count(*) FILTER (WHERE NOT (${take}))::int AS left_out
       FROM workflow_runs WHERE ${where}`,
      params,
    );
    return { matched: rows[0]?.n ?? 0, permanentExcluded: rows[0]?.left_out ?? 0 };
  }
  const id = newId('op');
  const filter = {
    type: request.filter.type ?? null,
    failed_step: request.filter.failedStep ?? null,
    created_after: request.filter.createdAfter ?? null,
    created_before: request.filter.createdBefore ?? null,
    owner_ref: request.filter.ownerRef ?? null,
    include_permanent: request.filter.includePermanent ?? false,
  };
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO workflow_operations (id, kind, name, filter, reason, actor, matched)
       VALUES ($1, 'bulk_restart', $2, $3::jsonb, $4, $5, 0)`,
      [
        id,
        request.name?.trim() || `bulk restart by ${request.actor}`,
        JSON.stringify(filter),
        request.reason.trim(),
        request.actor,
      ],
    );
    const n = params.length;
    const { rowCount } = await tx.query(
      `INSERT INTO workflow_operation_items (operation_id, run_id)
       SELECT $${n + 1}, id FROM workflow_runs WHERE ${where} AND ${take}`,
      [...params, id],
    );
    const { rows: left } = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_runs WHERE ${where} AND NOT (${take})`,
      params,
    );
    await tx.query(
      `UPDATE workflow_operations
       SET matched = $2, status = CASE WHEN $2 = 0 THEN 'completed' ELSE 'running' END,
           finished_at = CASE WHEN $2 = 0 THEN now() END
       WHERE id = $1`,
      [id, rowCount],
    );
    return { matched: rowCount, permanentExcluded: left[0]?.n ?? 0, operationId: id };
  });
}

/**
 * One throttled step of every running operation: restarts up to `limit` of its runs that are
 * still failed (others are skipped with a note), records each restart on the run, and closes the
 * operation when nothing is left. Safe to call from any number of workers at once.
 */
export async function advanceOperations(db: Db, args: { limit: number; now: Date | null }): Promise<number> {
  // Every worker calls this on every poll: answer the common case (nothing running) with one
  // index-only read instead of a write transaction.
  const running = await db.query(`SELECT 1 FROM workflow_operations WHERE status = 'running' LIMIT 1`);
  if (running.rows.length === 0) return 0;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ operation_id: string; run_id: string; restarted: boolean }>(
      `WITH items AS (
         SELECT i.operation_id, i.run_id, o.actor, o.reason, o.name
         FROM workflow_operation_items i JOIN workflow_operations o ON o.id = i.operation_id
         WHERE o.status = 'running' AND i.status = 'pending'
         ORDER BY o.created_at, i.run_id
         LIMIT $1
         FOR UPDATE OF i SKIP LOCKED),
       restarted AS (
         UPDATE workflow_runs r
         SET status = 'in_progress', attempt = 0, wait_reason = NULL, failed_step = NULL, error = NULL,
             lease_owner = NULL, version = r.version + 1, run_at = coalesce($2::timestamptz, now()),
             updated_at = coalesce($2::timestamptz, now())
         FROM items WHERE r.id = items.run_id AND r.status = 'failed'
         RETURNING r.id, r.step_index, r.steps),
       steps AS (
         UPDATE workflow_steps s SET status = 'pending', note = 'restarted by bulk operation'
         FROM restarted WHERE s.run_id = restarted.id AND s.step_index = restarted.step_index),
       events AS (
         INSERT INTO workflow_run_events (run_id, action, actor, reason, detail, created_at)
         SELECT restarted.id, 'restart', items.actor, items.reason,
                jsonb_build_object('operation_id', items.operation_id, 'operation', items.name,
                                   'from_step', restarted.steps[restarted.step_index + 1]),
                coalesce($2::timestamptz, now())
         FROM restarted JOIN items ON items.run_id = restarted.id),
       marked AS (
         UPDATE workflow_operation_items i
         SET status = CASE WHEN restarted.id IS NULL THEN 'skipped' ELSE 'restarted' END,
             note = CASE WHEN restarted.id IS NULL THEN 'no longer failed' END,
             processed_at = coalesce($2::timestamptz, now())
         FROM items LEFT JOIN restarted ON restarted.id = items.run_id
         WHERE i.operation_id = items.operation_id AND i.run_id = items.run_id)
       SELECT items.operation_id, items.run_id, restarted.id IS NOT NULL AS restarted
       FROM items LEFT JOIN restarted ON restarted.id = items.run_id`,
      [args.limit, args.now],
    );
    if (rows.length === 0) return 0;
    const byOperation = new Map<string, { restarted: number; skipped: number }>();
    for (const row of rows) {
      const counts = byOperation.get(row.operation_id) ?? { restarted: 0, skipped: 0 };
      if (row.restarted) counts.restarted++;
      else counts.skipped++;
      byOperation.set(row.operation_id, counts);
    }
    for (const [operationId, counts] of byOperation) {
      await tx.query(
        `UPDATE workflow_operations o
         SET restarted = o.restarted + $2, skipped = o.skipped + $3, processed = o.processed + $2 + $3,
             updated_at = coalesce($4::timestamptz, now()),
             status = CASE WHEN o.processed + $2 + $3 >= o.matched THEN 'completed' ELSE o.status END,
             finished_at = CASE WHEN o.processed + $2 + $3 >= o.matched
                                THEN coalesce($4::timestamptz, now()) END
         WHERE o.id = $1`,
        [operationId, counts.restarted, counts.skipped, args.now],
      );
    }
    await tx.query(`SELECT pg_notify('billflow_runs', '')`);
    return rows.length;
  });
}

export interface OperationStatus {
  id: string;
  kind: string;
  name: string;
  filter: Record<string, unknown>;
  reason: string;
  actor: string;
  status: string;
  matched: number;
  processed: number;
  restarted: number;
  skipped: number;
  created_at: Date;
  finished_at: Date | null;
  /** Runs this operation restarted that are failed again. */
  failed_again: { run_id: string; failed_step: string | null; error: unknown }[];
  /** Restarted runs that are still on their way. */
  in_progress: number;
  /** Restarted runs that have completed since. */
  completed: number;
}

export async function getOperation(q: Queryable, id: string): Promise<OperationStatus> {
  const { rows } = await q.query<Omit<OperationStatus, 'failed_again' | 'in_progress' | 'completed'>>(
    `SELECT id, kind, name, filter, reason, actor, status, matched, processed, restarted, skipped,
            created_at, finished_at
     FROM workflow_operations WHERE id = $1`,
    [id],
  );
  const operation = rows[0];
  if (!operation) throw new NotFoundError(`operation ${id} not found`);
  const outcomes = await q.query<{ status: string; n: number }>(
    `SELECT r.status, count(*)::int AS n
     FROM workflow_operation_items i JOIN workflow_runs r ON r.id = i.run_id
     WHERE i.operation_id = $1 AND i.status = 'restarted' GROUP BY r.status`,
    [id],
  );
  const failed = await q.query<{ run_id: string; failed_step: string | null; error: unknown }>(
    `SELECT r.id AS run_id, r.failed_step, r.error
     FROM workflow_operation_items i JOIN workflow_runs r ON r.id = i.run_id
     WHERE i.operation_id = $1 AND i.status = 'restarted' AND r.status = 'failed'
     ORDER BY r.id LIMIT 100`,
    [id],
  );
  const count = (status: string) => outcomes.rows.find((r) => r.status === status)?.n ?? 0;
  return {
    ...operation,
    failed_again: failed.rows,
    in_progress: count('in_progress') + count('pending'),
    completed: count('completed'),
  };
}
