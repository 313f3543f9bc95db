// "Did we lose anything?" — one pass over the invariants that no single run can check: every
// billing record has its run, every Stripe event was handled or set aside with a reason, the
// statistics equal a recount, no run is stuck past its lease, and the provider agrees with
// Billflow about which subscriptions are live and which refunds were made. It only reads (and asks the provider); fixing
// what it finds is the operator's call.
import type { Db, Queryable } from '../../db/types.ts';
import { createNotification } from '../../notify/index.ts';
import { renderTemplate, sendTeamNotice } from '../notifications/index.ts';
import type { NotifyDeps } from '../../notify/index.ts';
import type { PaymentProvider } from '../../providers/types.ts';
import { providerRefunds, providerSubscriptions } from './provider.ts';
import { recordsHaveRuns, runsWithinLease, statsMatchRecount, stripeEventsHandled } from './records.ts';
import type { ReconcileOptions, ReconciliationReport } from './report.ts';

export * from './report.ts';

/** Runs every check once; read-only. */
export async function reconcile(q: Queryable, options: ReconcileOptions = {}): Promise<ReconciliationReport> {
  const now = options.now ?? new Date();
  const limit = options.limit ?? 100;
  const checks = [
    await recordsHaveRuns(q, limit),
    await stripeEventsHandled(q, now, options.eventGraceMs ?? 3_600_000, limit),
    await statsMatchRecount(q, limit),
    await runsWithinLease(q, now, options.leaseGraceMs ?? 5 * 60_000, limit),
    await providerSubscriptions(q, options.provider, limit, options.providerLimit ?? 10_000),
    await providerRefunds(q, options.provider, limit, options.providerLimit ?? 10_000),
  ];
  const findingCount = checks.reduce((n, c) => n + c.finding_count, 0);
  return { checked_at: now.toISOString(), ok: findingCount === 0, finding_count: findingCount, checks };
}

export interface DailyReconciliationDeps {
  provider?: PaymentProvider;
  notify: NotifyDeps;
  /** A check that started this long ago and never finished (its worker died) is run again. Default 1 hour. */
  staleMs?: number;
}

/**
 * The daily check, for the maintenance loop: the first worker to reach a UTC day claims it and
 * runs the check once; when it finds something, an alert goes to the in-app feed (once per day).
 * Returns the report when this call ran the check, null when the day was done already.
 */
export async function runDailyReconciliation(
  db: Db,
  deps: DailyReconciliationDeps,
): Promise<ReconciliationReport | null> {
  const now = deps.notify.clock();
  const day = now.toISOString().slice(0, 10);
  const claimed = await db.query(
    `INSERT INTO reconciliation_days (day, started_at) VALUES ($1::date, $2)
     ON CONFLICT (day) DO UPDATE SET started_at = EXCLUDED.started_at
       WHERE reconciliation_days.finished_at IS NULL AND reconciliation_days.started_at < $3
     RETURNING day`,
    [day, now, new Date(now.getTime() - (deps.staleMs ?? 3_600_000))],
  );
  if (claimed.rows.length === 0) return null;
  const report = await reconcile(db, { provider: deps.provider, now });
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE reconciliation_days SET finished_at = $2, ok = $3, finding_count = $4, report = $5::jsonb
       WHERE day = $1::date`,
      [day, deps.notify.clock(), report.ok, report.finding_count, JSON.stringify(report)],
    );
    if (report.ok) return;
    const data = reportData(deps.notify, report);
    const text = await renderTemplate(tx, { event: 'reconciliation_failed', channel: 'internal', data });
    await createNotification(tx, {
      kind: 'alert',
      event: 'reconciliation_failed',
      severity: 'error',
      title: text.subject,
      body: text.body,
      data: { day, finding_count: report.finding_count, checks: data.checks },
      dedupeKey: `reconciliation:${day}`,
    });
  });
  return report;
}

/**
 * Sends a day's failed check to Slack and the team's email, where run failures go (the
 * `run_failed` settings); the feed has it already. Each channel sends once per day under its
 * send key, so calling this again (another worker, a later pass after a delivery error) only
 * sends what did not go out. Throws when a channel failed, for the next pass to retry.
 */
export async function announceReconciliation(db: Db, notify: NotifyDeps, day: string): Promise<void> {
  const { rows } = await db.query<{ report: ReconciliationReport | string }>(
    `SELECT report FROM reconciliation_days WHERE day = $1::date AND finished_at IS NOT NULL AND NOT ok`,
    [day],
  );
  const stored = rows[0]?.report;
  if (stored === undefined) return;
  const report = typeof stored === 'string' ? (JSON.parse(stored) as ReconciliationReport) : stored;
  await sendTeamNotice(db, notify, {
    event: 'reconciliation_failed',
    settingsOf: 'run_failed',
    inApp: false,
    idempotencyKey: `reconciliation:${day}`,
    data: reportData(notify, report),
  });
}

function reportData(notify: NotifyDeps, report: ReconciliationReport) {
  const url = notify.adminUrl ? `${notify.adminUrl.replace(/\/+$/, '')}/reconciliation` : undefined;
  const checks = report.checks
    .filter((c) => !c.ok)
    .map((c) => ({ name: c.name, title: c.title, finding_count: c.finding_count }));
  return { finding_count: report.finding_count, checks, url };
}

/** The last daily check that finished, or null. */
export async function lastDailyReconciliation(q: Queryable): Promise<ReconciliationReport | null> {
  const { rows } = await q.query<{ report: ReconciliationReport | string }>(
    `SELECT report FROM reconciliation_days WHERE finished_at IS NOT NULL ORDER BY day DESC LIMIT 1`,
  );
  const report = rows[0]?.report;
  if (report === undefined) return null;
  return typeof report === 'string' ? (JSON.parse(report) as ReconciliationReport) : report;
}
