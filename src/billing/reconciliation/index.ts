// "Did we lose anything?" — one pass over the invariants that no single run can check: every
// billing record has its run, every Stripe event was handled or set aside with a reason, the
// statistics equal a recount, no run is stuck past its lease, and the provider agrees with
// Billflow about which subscriptions are live and which refunds were made. It only reads (and asks the provider); fixing
// what it finds is the operator's call.
import type { Db, Queryable } from '../../db/types.ts';
import { createNotification, renderTemplate } from '../../notify/index.ts';
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
    const url = deps.notify.adminUrl ? `${deps.notify.adminUrl.replace(/\/+$/, '')}/reconciliation` : undefined;
    const checks = report.checks
      .filter((c) => !c.ok)
      .map((c) => ({ name: c.name, title: c.title, finding_count: c.finding_count }));
    const text = await renderTemplate(tx, {
      event: 'reconciliation_failed',
      channel: 'internal',
      data: { finding_count: report.finding_count, checks, url },
    });
    await createNotification(tx, {
      kind: 'alert',
      event: 'reconciliation_failed',
      severity: 'error',
      title: text.subject,
      body: text.body,
      data: { day, finding_count: report.finding_count, checks },
      dedupeKey: `reconciliation:${day}`,
    });
  });
  return report;
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
