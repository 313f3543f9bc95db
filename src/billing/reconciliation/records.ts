// The checks that only read Billflow's own tables: records and their runs, Stripe events, the
// statistics against a recount, runs past their lease.
import type { Queryable } from '../../db/types.ts';
import { compareStats } from '../stats/index.ts';
import { RECORDS, check, objectRef } from './report.ts';
import type { ReconciliationCheck } from './report.ts';

/** Before this, retention may have deleted finished runs (BILLFLOW_RETENTION_DAYS). */
const RETENTION_HORIZON = `coalesce((SELECT runs_deleted_before FROM retention_horizon), '-infinity')`;

/** Billing records with no workflow run about them: a record exists if and only if its run does. */
export async function recordsHaveRuns(q: Queryable, limit: number): Promise<ReconciliationCheck> {
  const union = Object.values(RECORDS)
    .map((r) => `SELECT '${r.kind}'::text AS kind, id, created_at FROM ${r.table}`)
    .join(' UNION ALL ');
  const { rows } = await q.query<{ kind: string; id: string; total: number }>(
    `SELECT kind, id, count(*) OVER ()::int AS total
     FROM (${union}) r
     WHERE NOT EXISTS (SELECT 1 FROM workflow_runs w WHERE w.subject_ref = r.id)
       -- Retention deletes finished runs (their records stay): only younger records must have one.
       AND r.created_at >= ${RETENTION_HORIZON}
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  const findings = rows.map((r) => ({
    message: `${r.kind} ${r.id} has no workflow run`,
    objects: [objectRef(r.id)],
  }));
  return check('records_have_runs', 'Every billing record has its run', findings, rows[0]?.total ?? 0);
}

interface EventRow {
  id: string;
  type: string;
  livemode: boolean;
  outcome: string;
  run_id: string | null;
  record_id: string | null;
  problem: 'unhandled' | 'no_reason' | 'run_missing';
  total: number;
}

/** Stripe events neither handled, nor parked (waiting, rejected) nor ignored with a reason. */
export async function stripeEventsHandled(
  q: Queryable,
  now: Date,
  graceMs: number,
  limit: number,
): Promise<ReconciliationCheck> {
  const { rows } = await q.query<EventRow>(
    `SELECT e.id, e.type, e.livemode, e.outcome, e.run_id, e.record_id, p.problem, count(*) OVER ()::int AS total
     FROM stripe_events e
     CROSS JOIN LATERAL (SELECT CASE
         WHEN e.outcome IN ('received', 'failed') AND e.last_received_at < $1::timestamptz THEN 'unhandled'
         WHEN e.outcome IN ('ignored', 'unsupported') AND nullif(trim(e.detail), '') IS NULL THEN 'no_reason'
         WHEN e.outcome = 'rejected' AND nullif(trim(coalesce(e.error, e.detail)), '') IS NULL THEN 'no_reason'
         WHEN e.outcome IN ('started', 'duplicate') AND (e.run_id IS NULL
              OR (NOT EXISTS (SELECT 1 FROM workflow_runs w WHERE w.id = e.run_id)
                  AND e.received_at >= ${RETENTION_HORIZON})) THEN 'run_missing'
       END AS problem) p
     WHERE p.problem IS NOT NULL
     ORDER BY e.received_at DESC, e.id DESC LIMIT $2`,
    [new Date(now.getTime() - graceMs), limit],
  );
  const findings = rows.map((e) => {
    const objects = [objectRef(e.id, { livemode: e.livemode })];
    if (e.run_id) objects.push(objectRef(e.run_id));
    if (e.record_id) objects.push(objectRef(e.record_id));
    const message =
      e.problem === 'unhandled'
        ? `Stripe event ${e.id} (${e.type}) is still ${e.outcome}: it was never handled`
        : e.problem === 'no_reason'
          ? `Stripe event ${e.id} (${e.type}) is ${e.outcome} without a reason`
          : `Stripe event ${e.id} (${e.type}) started run ${e.run_id ?? '(none)'}, which does not exist`;
    return { message, objects };
  });
  return check(
    'stripe_events_handled',
    'Every Stripe event is handled, parked or ignored with a reason',
    findings,
    rows[0]?.total ?? 0,
  );
}

export async function statsMatchRecount(q: Queryable, limit: number): Promise<ReconciliationCheck> {
  const comparison = await compareStats(q);
  const findings = comparison.differences.slice(0, limit).map((d) => ({
    message:
      `${d.metric} ${d.currency ? `${d.currency} ` : ''}on ${d.day}: the counter says ${d.counted}, ` +
      `a recount of the records gives ${d.recounted}`,
    objects: [{ kind: 'stat', id: `${d.metric}/${d.currency}/${d.day}`, url: '/', api_url: '/api/v1/stats/summary' }],
  }));
  return check(
    'stats_match_recount',
    'The statistics equal a recount of the records',
    findings,
    comparison.differences.length,
  );
}

/** Runs still leased by a worker long after the lease ran out: nobody took them over. */
export async function runsWithinLease(
  q: Queryable,
  now: Date,
  graceMs: number,
  limit: number,
): Promise<ReconciliationCheck> {
  const { rows } = await q.query<{
    id: string;
    type: string;
    step: string | null;
    lease_owner: string;
    run_at: Date;
    total: number;
  }>(
    `SELECT id, type, steps[step_index + 1] AS step, lease_owner, run_at, count(*) OVER ()::int AS total
     FROM workflow_runs
     WHERE status = 'in_progress' AND lease_owner IS NOT NULL AND run_at < $1::timestamptz
     ORDER BY run_at LIMIT $2`,
    [new Date(now.getTime() - graceMs), limit],
  );
  const findings = rows.map((r) => ({
    message:
      `run ${r.id} (${r.type}) is in progress at ${r.step ?? '?'} under ${r.lease_owner}, ` +
      `whose lease expired at ${new Date(r.run_at).toISOString()}`,
    objects: [objectRef(r.id)],
  }));
  return check('runs_within_lease', 'No run is in progress past its lease', findings, rows[0]?.total ?? 0);
}
