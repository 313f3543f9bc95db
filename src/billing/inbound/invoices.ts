// Stripe Billing's invoices, when Stripe owns the billing calendar: its invoice becomes ours with
// an invoice_creation run (once per Stripe invoice, whichever of invoice.created/finalized comes
// first), and its payment ends that run's wait. Billflow never charges these invoices: Stripe
// does, and retries a failed payment itself.
import type { Db, Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { startWorkflow, wakeWaitingRuns } from '../../engine/index.ts';
import type { Registry } from '../../engine/index.ts';
import {
  DEFAULT_DAYS_UNTIL_DUE,
  findInvoiceByProviderId,
  findSubscriptionByProviderId,
  markInvoicePaid,
  setProviderInvoiceLinks,
} from '../records/index.ts';
import type { Customer, Invoice } from '../records/index.ts';
import { linkStripePeriodInvoice } from '../calendar/periods.ts';
import type { InvoiceIntent } from './intents.ts';

export interface StartedStripeInvoice {
  invoice: Invoice;
  runId: string;
  created: boolean;
}

/** The run that recorded an invoice, if any. */
export async function invoiceRunOf(q: Queryable, invoiceId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM workflow_runs WHERE type = 'invoice_creation' AND subject_ref = $1 ORDER BY created_at LIMIT 1`,
    [invoiceId],
  );
  return rows[0]?.id;
}

/**
 * Records Stripe's invoice and starts its invoice_creation run (its record_invoice step in the
 * same transaction), under the Stripe invoice's key: a second event about the invoice, or a
 * redelivery, finds the run instead of starting one. Stripe's links are kept, the later event's
 * winning (they appear at finalization).
 */
export async function startStripeInvoice(
  db: Db,
  registry: Registry,
  intent: InvoiceIntent,
  customer: Customer,
  now: Date | undefined,
): Promise<StartedStripeInvoice> {
  const subscription = intent.providerSubscriptionId
    ? await findSubscriptionByProviderId(db, intent.providerSubscriptionId)
    : undefined;
  const linked = subscription && subscription.customer_id === customer.id && subscription.currency === intent.currency;
  const id = newId('inv');
  const started = await startWorkflow(db, registry, {
    type: 'invoice_creation',
    input: {
      invoice_id: id,
      customer_id: customer.id,
      ...(linked ? { subscription_id: subscription.id } : {}),
      currency: intent.currency,
      lines: intent.lines,
      ...(intent.dueAt ? { due_at: intent.dueAt } : { days_until_due: DEFAULT_DAYS_UNTIL_DUE }),
      provider_invoice_id: intent.invoiceId,
      ...(intent.periodStart && intent.periodEnd && intent.periodEnd > intent.periodStart
        ? { period_start: intent.periodStart, period_end: intent.periodEnd }
        : {}),
    },
    idempotencyKey: intent.idempotencyKey,
    subjectRef: id,
    ownerRef: customer.id,
    runFirstStep: true,
    now,
  });
  const output = started.firstStepOutput as { invoice_id?: unknown } | undefined;
  if (typeof output?.invoice_id !== 'string') throw new Error(`run ${started.runId} recorded no invoice`);
  await setProviderInvoiceLinks(db, output.invoice_id, { hostedUrl: intent.hostedUrl, pdfUrl: intent.pdfUrl });
  const invoice = await findInvoiceByProviderId(db, intent.invoiceId);
  if (!invoice) throw new Error(`invoice ${output.invoice_id} vanished`);
  await linkStripePeriodInvoice(db, invoice);
  return { invoice, runId: started.runId, created: started.created };
}

export interface PaidAtStripe {
  /** What the invoice was before: `open` (now paid here), `paid` already, or `void`. */
  before: string;
  wokenRunIds: string[];
}

/**
 * Stripe says the invoice is paid: marks it paid (by the payment, when it is known here) and wakes
 * its run, which ends as paid at once. An invoice already paid gets the payment linked if it had
 * none. No payment is recorded here: the payment's own events record it (and count the revenue).
 */
export async function paidAtStripe(
  db: Db,
  invoiceId: string,
  options: { paymentId?: string; now?: Date; eventId: string },
): Promise<PaidAtStripe> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: string }>('SELECT status FROM invoices WHERE id = $1 FOR UPDATE', [
      invoiceId,
    ]);
    const before = rows[0]?.status ?? 'missing';
    if (before === 'paid' && options.paymentId) {
      await tx.query(
        `UPDATE invoices SET paid_by_payment_id = $2 WHERE id = $1 AND status = 'paid' AND paid_by_payment_id IS NULL`,
        [invoiceId, options.paymentId],
      );
    }
    if (before !== 'open') return { before, wokenRunIds: [] };
    await markInvoicePaid(tx, invoiceId, { at: options.now, payment_id: options.paymentId });
    const woken = await wakeWaitingRuns(tx, {
      subjectRef: invoiceId,
      type: 'invoice_creation',
      now: options.now,
      actor: 'stripe',
      reason: `paid at Stripe (event ${options.eventId})`,
    });
    return { before, wokenRunIds: woken.map((w) => w.id) };
  });
}
