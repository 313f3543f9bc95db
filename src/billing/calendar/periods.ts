// A subscription's periods as operators read them: each with its invoice, its charge and the
// runs about them (the invoice's, the payments').
import type { Queryable } from '../../db/types.ts';
import { listRuns } from '../../engine/index.ts';
import type { RunStatus } from '../../engine/index.ts';
import { getSubscription } from '../records/index.ts';
import { toAmount } from '../records/money.ts';

export interface PeriodRun {
  id: string;
  type: string;
  status: RunStatus;
  outcome: string | null;
  /** The record the run is about (the invoice, a payment). */
  subject_ref: string | null;
  created_at: Date;
}

export interface SubscriptionPeriodView {
  period_start: Date;
  period_end: Date;
  /** trial / initial: the subscription's first period (not renewed: it came with the subscription). */
  kind: 'trial' | 'initial' | 'trial_conversion' | 'renewal';
  current: boolean;
  amount: number;
  currency: string;
  collection_method: string | null;
  charge_status: string | null;
  charge_detail: string | null;
  /** The payment the period's charge made (charged periods). */
  payment_id: string | null;
  renewed_at: Date | null;
  invoice: {
    id: string;
    number: string;
    total: number;
    currency: string;
    status: string;
    due_at: Date;
    paid_at: Date | null;
  } | null;
  /** Oldest first. For the first period: the subscription_creation run. */
  runs: PeriodRun[];
}

interface PeriodRow {
  period_start: Date;
  period_end: Date;
  kind: 'trial_conversion' | 'renewal';
  amount: unknown;
  currency: string;
  collection_method: string;
  charge_status: string;
  charge_detail: string | null;
  payment_id: string | null;
  renewed_at: Date;
  invoice_id: string | null;
  number: string | null;
  total: unknown;
  status: string | null;
  due_at: Date | null;
  paid_at: Date | null;
}

async function runsAbout(q: Queryable, subjectRefs: string[]): Promise<PeriodRun[]> {
  const runs: PeriodRun[] = [];
  for (const subjectRef of subjectRefs) {
    const page = await listRuns(q, { subjectRef }, { limit: 20 });
    runs.push(
      ...page.items.map((r) => ({
        id: r.id,
        type: r.type,
        status: r.status,
        outcome: r.outcome,
        subject_ref: r.subject_ref,
        created_at: r.created_at,
      })),
    );
  }
  return runs.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id));
}

/**
 * The periods of a subscription, newest first: the renewed ones as the calendar recorded them,
 * and its first period (the trial, or the period it started with). NotFoundError when unknown.
 */
export async function listSubscriptionPeriods(
  q: Queryable,
  subscriptionId: string,
  options: { limit?: number } = {},
): Promise<SubscriptionPeriodView[]> {
  const subscription = await getSubscription(q, subscriptionId);
  const limit = Math.min(options.limit ?? 24, 100);
  const { rows } = await q.query<PeriodRow>(
    `SELECT p.period_start, p.period_end, p.kind, p.amount, p.currency, p.collection_method, p.charge_status,
       p.charge_detail, p.payment_id, p.renewed_at, p.invoice_id, i.number, i.total, i.status, i.due_at, i.paid_at
     FROM subscription_periods p LEFT JOIN invoices i ON i.id = p.invoice_id
     WHERE p.subscription_id = $1
     ORDER BY p.period_start DESC LIMIT $2`,
    [subscriptionId, limit + 1],
  );
  const renewed = rows.slice(0, limit);
  const views: SubscriptionPeriodView[] = [];
  for (const row of renewed) {
    const payments = row.invoice_id
      ? (await q.query<{ id: string }>('SELECT id FROM payments WHERE invoice_id = $1 ORDER BY id', [row.invoice_id]))
          .rows
      : [];
    views.push({
      period_start: row.period_start,
      period_end: row.period_end,
      kind: row.kind,
      current: row.period_start.getTime() === subscription.current_period_start.getTime(),
      amount: toAmount(row.amount),
      currency: row.currency,
      collection_method: row.collection_method,
      charge_status: row.charge_status,
      charge_detail: row.charge_detail,
      payment_id: row.payment_id,
      renewed_at: row.renewed_at,
      invoice:
        row.invoice_id && row.number && row.status && row.due_at
          ? {
              id: row.invoice_id,
              number: row.number,
              total: toAmount(row.total),
              currency: row.currency,
              status: row.status,
              due_at: row.due_at,
              paid_at: row.paid_at,
            }
          : null,
      runs: row.invoice_id ? await runsAbout(q, [row.invoice_id, ...payments.map((p) => p.id)]) : [],
    });
  }
  // The first period, unless the page ends before it.
  if (rows.length <= limit) {
    const firstEnd = rows.at(-1)?.period_start ?? subscription.current_period_end;
    const trial = subscription.trial_end !== null && subscription.trial_end.getTime() === firstEnd.getTime();
    views.push({
      period_start: subscription.started_at,
      period_end: firstEnd,
      kind: trial ? 'trial' : 'initial',
      current: rows.length === 0,
      amount: trial ? 0 : subscription.amount,
      currency: subscription.currency,
      collection_method: null,
      charge_status: null,
      charge_detail: null,
      payment_id: null,
      renewed_at: null,
      invoice: null,
      runs: (await runsAbout(q, [subscription.id])).filter((r) => r.type === 'subscription_creation'),
    });
  }
  return views;
}

/**
 * A period Stripe Billing renewed (the calendar is Stripe's), written down like one of ours so the
 * periods list shows it; it is never charged here. Its invoice is linked by whichever of the two
 * is recorded second (the period here, or the invoice by linkStripePeriodInvoice).
 */
export async function recordStripePeriod(
  q: Queryable,
  subscription: { id: string; amount: number; currency: string; collection_method: string },
  period: { start: Date; end: Date; kind: 'renewal' | 'trial_conversion' },
  at: Date,
): Promise<void> {
  await q.query(
    `INSERT INTO subscription_periods (subscription_id, period_start, period_end, kind, amount, currency,
       collection_method, charge_status, charge_detail, renewed_at, invoice_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'skipped', 'charged by Stripe Billing', $8,
       (SELECT id FROM invoices WHERE subscription_id = $1 AND period_start = $2 AND provider_invoice_id IS NOT NULL
        ORDER BY id LIMIT 1))
     ON CONFLICT (subscription_id, period_start) DO NOTHING`,
    [
      subscription.id,
      period.start,
      period.end,
      period.kind,
      subscription.amount,
      subscription.currency,
      subscription.collection_method,
      at,
    ],
  );
}

/** Stripe's invoice for a period it renewed, once both are recorded. */
export async function linkStripePeriodInvoice(
  q: Queryable,
  invoice: { id: string; subscription_id: string | null; period_start: Date | null },
): Promise<void> {
  if (!invoice.subscription_id || !invoice.period_start) return;
  await q.query(
    `UPDATE subscription_periods SET invoice_id = $1
     WHERE subscription_id = $2 AND period_start = $3 AND invoice_id IS NULL`,
    [invoice.id, invoice.subscription_id, invoice.period_start],
  );
}
