// "Did we lose anything?" — one pass over the invariants that no single run can check: every
// billing record has its run, every Stripe event was handled or set aside with a reason, the
// statistics equal a recount, no run is stuck past its lease, and the provider agrees with
// Billflow about which subscriptions are live. It only reads (and asks the provider); fixing
// what it finds is the operator's call.
import type { Db, Queryable } from '../db/types.ts';
import { createNotification, renderTemplate } from '../notify/index.ts';
import type { NotifyDeps } from '../notify/index.ts';
import type { PaymentProvider, ProviderSubscription } from '../providers/types.ts';
import { compareStats } from './stats/index.ts';

export const RECONCILIATION_CHECKS = [
  'records_have_runs',
  'stripe_events_handled',
  'stats_match_recount',
  'runs_within_lease',
  'provider_subscriptions',
] as const;
export type ReconciliationCheckName = (typeof RECONCILIATION_CHECKS)[number];

/** One object a finding is about, with where people and programs look at it. */
export interface ReconciliationObject {
  kind: string;
  id: string;
  /** A page of the admin UI (relative to its public URL), or an outside page (Stripe's dashboard). */
  url: string | null;
  /** The REST API resource, when there is one. */
  api_url: string | null;
}

export interface ReconciliationFinding {
  message: string;
  objects: ReconciliationObject[];
}

export interface ReconciliationCheck {
  name: ReconciliationCheckName;
  title: string;
  ok: boolean;
  /** How many findings there are in all; `findings` lists at most `limit` of them. */
  finding_count: number;
  findings: ReconciliationFinding[];
  /** What the check could not look at (e.g. the provider was unreachable), or null. */
  note: string | null;
}

export interface ReconciliationReport {
  checked_at: string;
  ok: boolean;
  finding_count: number;
  checks: ReconciliationCheck[];
}

export interface ReconcileOptions {
  /** The configured payment provider; without it the provider check is skipped (and says so). */
  provider?: PaymentProvider;
  now?: Date;
  /** Findings listed per check (all are counted). Default 100. */
  limit?: number;
  /** A leased run is reported once its lease expired longer ago than this. Default 5 minutes. */
  leaseGraceMs?: number;
  /** A Stripe event still `received` or `failed` this long after its last delivery is reported. Default 1 hour. */
  eventGraceMs?: number;
  /** Subscriptions compared with the provider per pass, most recently changed first. Default 10,000. */
  providerLimit?: number;
}

const RECORDS: Record<string, { kind: string; table: string; path: string }> = {
  sub: { kind: 'subscription', table: 'subscriptions', path: 'subscriptions' },
  inv: { kind: 'invoice', table: 'invoices', path: 'invoices' },
  pay: { kind: 'payment', table: 'payments', path: 'payments' },
  re: { kind: 'refund', table: 'refunds', path: 'refunds' },
  cb: { kind: 'chargeback', table: 'chargebacks', path: 'chargebacks' },
};

/** The object behind an id, from its prefix: `sub_…`, `run_…`, `cus_…`, `evt_…`. */
export function objectRef(id: string, options: { livemode?: boolean } = {}): ReconciliationObject {
  const prefix = id.slice(0, id.indexOf('_'));
  const record = RECORDS[prefix];
  if (record) {
    return {
      kind: record.kind,
      id,
      url: `/records/${record.kind}/${encodeURIComponent(id)}`,
      api_url: `/api/v1/${record.path}/${encodeURIComponent(id)}`,
    };
  }
  if (prefix === 'cus') {
    return { kind: 'customer', id, url: `/customers/${encodeURIComponent(id)}`, api_url: `/api/v1/customers/${id}` };
  }
  if (prefix === 'run') {
    return { kind: 'run', id, url: `/runs/${encodeURIComponent(id)}`, api_url: `/api/v1/workflows/${id}` };
  }
  if (prefix === 'evt') {
    const mode = options.livemode === false ? 'test/' : '';
    return { kind: 'stripe_event', id, url: `https://dashboard.stripe.com/${mode}events/${id}`, api_url: null };
  }
  return { kind: 'object', id, url: null, api_url: null };
}

function check(
  name: ReconciliationCheckName,
  title: string,
  findings: ReconciliationFinding[],
  count: number,
  note: string | null = null,
): ReconciliationCheck {
  return { name, title, ok: count === 0, finding_count: count, findings, note };
}

/** Before this, retention may have deleted finished runs (BILLFLOW_RETENTION_DAYS). */
const RETENTION_HORIZON = `coalesce((SELECT runs_deleted_before FROM retention_horizon), '-infinity')`;

/** Billing records with no workflow run about them: a record exists if and only if its run does. */
async function recordsHaveRuns(q: Queryable, limit: number): Promise<ReconciliationCheck> {
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
async function stripeEventsHandled(
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

async function statsMatchRecount(q: Queryable, limit: number): Promise<ReconciliationCheck> {
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
async function runsWithinLease(q: Queryable, now: Date, graceMs: number, limit: number): Promise<ReconciliationCheck> {
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

interface SubscriptionRow {
  id: string;
  status: string;
  customer_id: string;
  provider_subscription_id: string | null;
  provider_customer_id: string | null;
}

const PROVIDER_ENDED = new Set(['canceled', 'incomplete_expired']);

function providerMismatch(sub: SubscriptionRow, found: ProviderSubscription | null): string | null {
  if (sub.status === 'cancelled') {
    if (found && !PROVIDER_ENDED.has(found.status)) {
      return `subscription ${sub.id} is cancelled in Billflow but ${found.status} at the provider (${found.provider_reference})`;
    }
    return null;
  }
  if (!found) return `subscription ${sub.id} is ${sub.status} in Billflow but does not exist at the provider`;
  if (PROVIDER_ENDED.has(found.status)) {
    return `subscription ${sub.id} is ${sub.status} in Billflow but ${found.status} at the provider (${found.provider_reference})`;
  }
  return null;
}

/**
 * Every subscription cancelled in Billflow is cancelled at the provider, and every live one
 * exists there and is not ended. Subscriptions with a run still on its way are left to it.
 */
async function providerSubscriptions(
  q: Queryable,
  provider: PaymentProvider | undefined,
  limit: number,
  providerLimit: number,
): Promise<ReconciliationCheck> {
  const title = 'Subscriptions agree with the payment provider';
  if (!provider) return check('provider_subscriptions', title, [], 0, 'no payment provider configured here');
  const { rows } = await q.query<SubscriptionRow>(
    `SELECT s.id, s.status, s.customer_id, s.provider_subscription_id, c.provider_customer_id
     FROM subscriptions s JOIN customers c ON c.id = s.customer_id
     WHERE NOT EXISTS (SELECT 1 FROM workflow_runs w
                       WHERE w.subject_ref = s.id AND w.status IN ('pending', 'in_progress'))
       AND (s.provider_subscription_id IS NOT NULL OR s.status <> 'cancelled')
     ORDER BY s.updated_at DESC, s.id DESC LIMIT $1`,
    [providerLimit + 1],
  );
  const subs = rows.slice(0, providerLimit);
  const findings: ReconciliationFinding[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < subs.length) {
      const sub = subs[next++] as SubscriptionRow;
      let found: ProviderSubscription | null;
      try {
        found =
          sub.provider_subscription_id || sub.provider_customer_id
            ? await provider.findSubscription({
                subscriptionId: sub.id,
                customer: sub.provider_customer_id ?? '',
                ...(sub.provider_subscription_id && { providerReference: sub.provider_subscription_id }),
              })
            : null;
      } catch (error) {
        errors.push(`${sub.id}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const message = providerMismatch(sub, found);
      if (message) findings.push({ message, objects: [objectRef(sub.id), objectRef(sub.customer_id)] });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, subs.length) }, worker));
  findings.sort((a, b) => (a.objects[0]?.id ?? '').localeCompare(b.objects[0]?.id ?? ''));
  const notes: string[] = [];
  if (rows.length > providerLimit) notes.push(`compared the ${providerLimit} most recently changed subscriptions`);
  if (errors.length > 0) {
    notes.push(`${errors.length} could not be looked up (${errors.slice(0, 3).join('; ')})`);
  }
  return check('provider_subscriptions', title, findings.slice(0, limit), findings.length, notes.join('; ') || null);
}

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
