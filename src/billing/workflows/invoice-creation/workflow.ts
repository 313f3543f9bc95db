// invoice_creation: record_invoice → render_invoice_pdf → send_customer_email (PDF attached) →
// send_internal_notice → await_payment (until paid or due) → send_overdue_warning →
// await_grace_period (until due + graceDays) → disable_customer. A paid (or voided) invoice ends
// the run early; paying it wakes the run (wakeWaitingRuns), so it ends at once, not at the due date.
import { dbStep, defineWorkflow, finishRun, waitUntil } from '../../../engine/index.ts';
import type { AnyWorkflow, DbStepContext, ExternalStep, StepOutput } from '../../../engine/index.ts';
import { createNotification, getNotificationSettings, renderTemplate, sendKey } from '../../../notify/index.ts';
import { emitEvent } from '../../../notify/index.ts';
import { createInvoice, getCustomer, getInvoice, setCustomerStatus, findInvoice } from '../../records/index.ts';
import { DEFAULT_GRACE_DAYS } from '../shared/deps.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { parseInvoiceRunInput } from './input.ts';
import type { InvoiceRunInput } from './input.ts';
import { invoicePdf, invoiceView, pdfPageCount } from '../shared/documents.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER, iso } from '../shared/steps.ts';
import { customerEmailStep, customerView, internalNoticeStep } from '../shared/notify-steps.ts';

const DAY_MS = 86_400_000;

/** record_invoice, which every later step reads. */
type Recorded = StepOutput<RecordInvoiceOutput>;

export interface RecordInvoiceOutput {
  invoice_id: string;
  number: string;
  customer_id: string;
  total: number;
  currency: string;
  due_at: string;
}

/**
 * The invoice as the waiting steps see it, locked against a concurrent payment: either the payment
 * committed first (and is seen here), or it waits for this step to record its timer and then wakes it.
 */
async function lockedInvoice(ctx: DbStepContext<InvoiceRunInput>, recorded: Recorded) {
  const { invoice_id } = recorded.output(ctx);
  const { rows } = await ctx.tx.query<{ status: string; paid_at: Date | null; paid_by_payment_id: string | null }>(
    'SELECT status, paid_at, paid_by_payment_id FROM invoices WHERE id = $1 FOR SHARE',
    [invoice_id],
  );
  const row = rows[0];
  if (!row) throw new Error(`invoice ${invoice_id} vanished`);
  return row;
}

/** Ends the run when the invoice is no longer open; otherwise undefined. */
function settled(invoice: { status: string; paid_at: Date | null; paid_by_payment_id: string | null }) {
  if (invoice.status === 'paid') {
    return finishRun('paid', { status: 'paid', paid_at: iso(invoice.paid_at), payment_id: invoice.paid_by_payment_id });
  }
  if (invoice.status === 'void') return finishRun('void', { status: 'void' });
  return undefined;
}

function awaitStep(
  recorded: Recorded,
  name: string,
  until: (ctx: DbStepContext<InvoiceRunInput>) => Date,
  then: string,
) {
  return {
    name,
    kind: 'db' as const,
    retry: DB_RETRY,
    async run(ctx: DbStepContext<InvoiceRunInput>): Promise<unknown> {
      const invoice = await lockedInvoice(ctx, recorded);
      const done = settled(invoice);
      if (done) return done;
      const at = until(ctx);
      if (ctx.now() < at) return waitUntil(at, { status: 'open', waiting_until: at.toISOString() });
      const overdue = name === 'await_payment' && (await getInvoice(ctx.tx, recorded.output(ctx).invoice_id));
      if (overdue) await emitEvent(ctx.tx, { type: 'invoice.overdue', payload: overdue, runId: ctx.runId });
      return { status: 'open', waited_until: at.toISOString(), next: then };
    },
  };
}

function graceEnd(deps: WorkflowDeps, dueAt: string): Date {
  return new Date(new Date(dueAt).getTime() + (deps.graceDays ?? DEFAULT_GRACE_DAYS) * DAY_MS);
}

/** send_overdue_warning: the invoice_overdue email, unless the invoice was settled meanwhile. */
function overdueWarningStep(deps: WorkflowDeps, recorded: Recorded): ExternalStep<InvoiceRunInput> {
  const email = customerEmailStep<InvoiceRunInput>(deps, 'invoice_overdue', async (ctx, db) => {
    const record = recorded.output(ctx);
    const invoice = await getInvoice(db, record.invoice_id);
    return {
      customerId: invoice.customer_id,
      data: { invoice: invoiceView(invoice), grace_period_ends: graceEnd(deps, record.due_at).toISOString() },
    };
  });
  return {
    ...email,
    name: 'send_overdue_warning',
    async run(ctx): Promise<unknown> {
      const invoice = await getInvoice(deps.db, recorded.output(ctx).invoice_id);
      const done = settled(invoice);
      if (done) return done;
      return email.run(ctx);
    },
  };
}

export function invoiceCreation(deps: WorkflowDeps): AnyWorkflow {
  const recorded = dbStep({
    name: 'record_invoice',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<InvoiceRunInput>): Promise<RecordInvoiceOutput> {
      const { invoice_id, ...input } = ctx.input;
      const invoice =
        (await findInvoice(ctx.tx, invoice_id)) ??
        (await createInvoice(ctx.tx, input, { id: invoice_id, at: ctx.now() }));
      await emitEvent(ctx.tx, { type: 'invoice.created', payload: invoice, runId: ctx.runId });
      return {
        invoice_id: invoice.id,
        number: invoice.number,
        customer_id: invoice.customer_id,
        total: invoice.total,
        currency: invoice.currency,
        due_at: invoice.due_at.toISOString(),
      };
    },
  });
  return defineWorkflow<InvoiceRunInput>({
    type: 'invoice_creation',
    // A renewal's run may carry a plan change's credit line; startInvoice refuses one from a caller.
    parseInput: parseInvoiceRunInput,
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      recorded,
      {
        name: 'render_invoice_pdf',
        kind: 'external',
        retry: { maxAttempts: 3 },
        // Rendered to prove the document builds before it is mailed; the email step renders it
        // again, so the run history keeps only this summary, never the bytes.
        async run(ctx) {
          const { invoice_id, number } = recorded.output(ctx);
          const pdf = await invoicePdf(deps, deps.db, invoice_id);
          return { number, pages: pdfPageCount(pdf), bytes: pdf.byteLength };
        },
      },
      customerEmailStep<InvoiceRunInput>(deps, 'invoice_created', async (ctx, db) => {
        const { invoice_id } = recorded.output(ctx);
        const invoice = await getInvoice(db, invoice_id);
        const pdf = await invoicePdf(deps, db, invoice_id);
        return {
          customerId: invoice.customer_id,
          data: { invoice: invoiceView(invoice) },
          attachments: [{ filename: `${invoice.number}.pdf`, content: pdf, contentType: 'application/pdf' }],
        };
      }),
      internalNoticeStep<InvoiceRunInput>(deps, 'invoice_created', async (ctx, db) => {
        const { invoice_id } = recorded.output(ctx);
        const invoice = await getInvoice(db, invoice_id);
        const customer = await getCustomer(db, invoice.customer_id);
        return { data: { customer: customerView(customer), invoice: invoiceView(invoice) } };
      }),
      awaitStep(recorded, 'await_payment', (ctx) => new Date(recorded.output(ctx).due_at), 'send_overdue_warning'),
      overdueWarningStep(deps, recorded),
      awaitStep(
        recorded,
        'await_grace_period',
        (ctx) => graceEnd(deps, recorded.output(ctx).due_at),
        'disable_customer',
      ),
      {
        name: 'disable_customer',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx): Promise<unknown> {
          const done = settled(await lockedInvoice(ctx, recorded));
          if (done) return done;
          const record = recorded.output(ctx);
          const before = await getCustomer(ctx.tx, record.customer_id);
          const customer = await setCustomerStatus(ctx.tx, record.customer_id, 'disabled', { at: ctx.now() });
          await emitEvent(ctx.tx, { type: 'customer.disabled', payload: customer, runId: ctx.runId });
          return {
            customer_id: customer.id,
            status_before: before.status,
            status: customer.status,
            notice: await disabledNotice(deps, ctx, record),
          };
        },
      },
    ],
  });
}

/**
 * The team's in-app notice, written with the status change (exactly once). Slack and team email
 * are not sent from here: this is a db step, and a message out must not hold its transaction.
 */
async function disabledNotice(deps: WorkflowDeps, ctx: DbStepContext<InvoiceRunInput>, record: RecordInvoiceOutput) {
  const settings = await getNotificationSettings(ctx.tx, deps.notifications, 'customer_disabled');
  if (!settings.in_app) return 'in-app notice off';
  const customer = await getCustomer(ctx.tx, record.customer_id);
  const invoice = await getInvoice(ctx.tx, record.invoice_id);
  const text = await renderTemplate(ctx.tx, deps.notifications, {
    event: 'customer_disabled',
    channel: 'internal',
    data: { customer: customerView(customer), invoice: invoiceView(invoice) },
  });
  const created = await createNotification(ctx.tx, {
    kind: 'notice',
    event: 'customer_disabled',
    severity: 'warning',
    title: text.subject ?? 'Customer disabled',
    body: text.body,
    runId: ctx.runId,
    dedupeKey: sendKey(ctx.idempotencyKey, 'in_app'),
  });
  return `in-app ${created.id}`;
}
