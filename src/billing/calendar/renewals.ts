// Renewals: a subscription whose period has ended moves to its next period and gets that
// period's invoice (its invoice_creation run), exactly once per period. A trial's end is the
// same move: its first paid period.
import type { Db, Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { startWorkflow } from '../../engine/index.ts';
import type { Registry } from '../../engine/index.ts';
import { DEFAULT_DAYS_UNTIL_DUE, getPlan, markProrationInvoiced, takeRenewalPlanChanges } from '../records/index.ts';
import type { CollectionMethod, Interval, InvoiceLineInput, PlanChange } from '../records/index.ts';
import { toAmount } from '../records/money.ts';
import { countPlanChange, refreshCustomerStatus } from '../stats/index.ts';
import { emitEvent } from '../../notify/index.ts';
import { getSubscription } from '../records/index.ts';

export type PeriodKind = 'renewal' | 'trial_conversion';

/** A period the calendar started, as recorded in subscription_periods. */
export interface RenewedPeriod {
  subscription_id: string;
  customer_id: string;
  kind: PeriodKind;
  period_start: Date;
  period_end: Date;
  amount: number;
  currency: string;
  collection_method: CollectionMethod;
  invoice_id: string | null;
  invoice_run_id: string | null;
  charge_status: 'pending' | 'skipped';
}

interface DueRow {
  id: string;
  customer_id: string;
  plan_id: string;
  amount: unknown;
  currency: string;
  interval: Interval;
  status: string;
  collection_method: CollectionMethod;
  current_period_end: Date;
  next_end: Date;
  kind: PeriodKind;
}

/**
 * What makes a period renewable: it has ended, the subscription is live and is not set to end at
 * (or before) that moment — a cancellation at period end is settled, not renewed.
 */
function renewableAt(now: string): string {
  return `s.status <> 'cancelled' AND s.current_period_end <= ${now}
    AND (s.cancel_at IS NULL OR s.cancel_at > s.current_period_end)`;
}

/** `2026-02-01T00:00:00Z`: the period start as the renewal's idempotency key names it. */
export function periodKeyTime(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** The idempotency key of a period's renewal start: subscription + period start. */
export function renewalKey(subscriptionId: string, periodStart: Date): string {
  return `renewal:${subscriptionId}:${periodKeyTime(periodStart)}`;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Renews one period of a subscription if it is due at `now`: in one transaction, locks the
 * subscription (another worker renewing it at the same time skips it), records the period,
 * starts the period's invoice_creation run (its record_invoice step runs in this transaction)
 * and advances the subscription to the period. Returns the period, or undefined when nothing
 * was due (or another transaction holds the subscription). The run's idempotency key and the
 * period's primary key both say "once": a second attempt at the same period creates nothing.
 */
export async function renewPeriod(
  db: Db,
  registry: Registry,
  subscriptionId: string,
  now: Date,
): Promise<RenewedPeriod | undefined> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<DueRow>(
      `SELECT s.id, s.customer_id, s.plan_id, s.amount, s.currency, s.interval, s.status, s.collection_method,
         s.current_period_end,
         billflow_next_period_end(coalesce(s.trial_end, s.started_at), s.interval, s.current_period_end) AS next_end,
         CASE WHEN s.trial_end = s.current_period_end THEN 'trial_conversion' ELSE 'renewal' END AS kind
       FROM subscriptions s
       WHERE s.id = $1 AND ${renewableAt('$2')}
       FOR NO KEY UPDATE SKIP LOCKED`,
      [subscriptionId, now],
    );
    const due = rows[0];
    if (!due) return undefined;
    const period = { start: due.current_period_end, end: due.next_end };
    // A plan change scheduled for this moment takes effect now; proration from changes made
    // during the period ends on this invoice. Both in this transaction: exactly once.
    const changes = await takeRenewalPlanChanges(tx, due.id, period.start);
    if (changes.applied) {
      Object.assign(due, { plan_id: changes.applied.to_plan_id, amount: changes.applied.to_amount });
      await countPlanChange(tx, changes.applied.id);
    }
    const amount = toAmount(due.amount);
    const proration = await prorationLines(tx, changes.proration);
    const billed = amount + proration.reduce((sum, line) => sum + line.unit_amount, 0);
    const inserted = await tx.query(
      `INSERT INTO subscription_periods (subscription_id, period_start, period_end, kind, amount, currency,
         collection_method, charge_status, charge_detail, renewed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (subscription_id, period_start) DO NOTHING`,
      [
        due.id,
        period.start,
        period.end,
        due.kind,
        amount,
        due.currency,
        due.collection_method,
        chargeStatus(due.collection_method, billed),
        skipReason(due.collection_method, billed),
        now,
      ],
    );
    // Recorded before with the subscription left behind: impossible while both are written here,
    // but never invoice a period twice.
    if (inserted.rowCount === 0) throw new Error(`period ${renewalKey(due.id, period.start)} exists already`);

    let invoice: { invoice_id: string; run_id: string } | undefined;
    if (amount > 0 || proration.length > 0) {
      invoice = await startRenewalInvoice(tx, registry, due, period, amount, proration, now);
      await markProrationInvoiced(
        tx,
        changes.proration.map((c) => c.id),
        invoice.invoice_id,
      );
    }
    await tx.query(
      `UPDATE subscription_periods SET invoice_id = $3, invoice_run_id = $4
       WHERE subscription_id = $1 AND period_start = $2`,
      [due.id, period.start, invoice?.invoice_id ?? null, invoice?.run_id ?? null],
    );
    await tx.query(
      `UPDATE subscriptions SET current_period_start = $2, current_period_end = $3,
         status = CASE WHEN status = 'trialing' THEN 'active' ELSE status END, updated_at = $4
       WHERE id = $1`,
      [due.id, period.start, period.end, now],
    );
    if (due.kind === 'trial_conversion') await refreshCustomerStatus(tx, due.customer_id, now);
    const renewed = await getSubscription(tx, due.id);
    await emitEvent(tx, { type: 'subscription.renewed', payload: renewed, runId: invoice?.run_id ?? null, time: now });
    return {
      subscription_id: due.id,
      customer_id: due.customer_id,
      kind: due.kind,
      period_start: period.start,
      period_end: period.end,
      amount,
      currency: due.currency,
      collection_method: due.collection_method,
      invoice_id: invoice?.invoice_id ?? null,
      invoice_run_id: invoice?.run_id ?? null,
      charge_status: chargeStatus(due.collection_method, billed),
    };
  });
}

function chargeStatus(collection: CollectionMethod, amount: number): 'pending' | 'skipped' {
  return collection === 'charge_automatically' && amount > 0 ? 'pending' : 'skipped';
}

function skipReason(collection: CollectionMethod, amount: number): string | null {
  if (amount === 0) return 'free period: nothing to invoice';
  if (collection === 'send_invoice') return 'send_invoice: the invoice is sent to be paid by its due date';
  return null;
}

/** A plan change's proration as invoice lines: the rest of the period on the new plan, the unused old one. */
async function prorationLines(q: Queryable, changes: readonly PlanChange[]): Promise<InvoiceLineInput[]> {
  const lines: InvoiceLineInput[] = [];
  for (const change of changes) {
    const [from, to] = [await getPlan(q, change.from_plan_id), await getPlan(q, change.to_plan_id)];
    const span = `${day(change.effective_at)} – ${day(change.period_end)}`;
    if (change.charge_amount > 0) {
      lines.push({
        description: `${to.name}, rest of the period (${span})`,
        quantity: 1,
        unit_amount: change.charge_amount,
      });
    }
    if (change.credit_amount > 0) {
      lines.push({ description: `Unused ${from.name} (${span})`, quantity: 1, unit_amount: -change.credit_amount });
    }
  }
  return lines;
}

/** The period's invoice and its invoice_creation run, the run's first step in `tx`. */
async function startRenewalInvoice(
  tx: Queryable,
  registry: Registry,
  due: DueRow,
  period: { start: Date; end: Date },
  amount: number,
  proration: readonly InvoiceLineInput[],
  now: Date,
): Promise<{ invoice_id: string; run_id: string }> {
  const plan = await getPlan(tx, due.plan_id);
  const invoiceId = newId('inv');
  const started = await startWorkflow(tx, registry, {
    type: 'invoice_creation',
    input: {
      invoice_id: invoiceId,
      customer_id: due.customer_id,
      subscription_id: due.id,
      currency: due.currency,
      lines: [
        {
          description: `${plan.name} (${day(period.start)} – ${day(period.end)})`,
          quantity: 1,
          unit_amount: amount,
        },
        ...proration,
      ],
      days_until_due: DEFAULT_DAYS_UNTIL_DUE,
      period_start: period.start.toISOString(),
      period_end: period.end.toISOString(),
    },
    idempotencyKey: renewalKey(due.id, period.start),
    subjectRef: invoiceId,
    ownerRef: due.customer_id,
    runFirstStep: true,
    now,
  });
  const output = started.firstStepOutput as { invoice_id?: unknown } | undefined;
  if (typeof output?.invoice_id !== 'string') throw new Error(`run ${started.runId} recorded no invoice`);
  return { invoice_id: output.invoice_id, run_id: started.runId };
}

/**
 * The subscriptions with a period due at `now`, oldest due first. A subscription several periods
 * behind (the workers were down, the clock jumped) comes back once per period.
 */
export async function dueSubscriptions(
  q: Queryable,
  now: Date,
  options: { limit: number; exclude?: readonly string[] },
): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT s.id FROM subscriptions s WHERE ${renewableAt('$1')} AND s.id <> ALL ($3::text[])
     ORDER BY s.current_period_end, s.id LIMIT $2`,
    [now, options.limit, options.exclude ?? []],
  );
  return rows.map((r) => r.id);
}
