// payment_success: record_payment → generate_receipt → update_stats → send_customer_email (receipt
// PDF attached) → send_internal_notice.
import type { Queryable } from '../../../db/types.ts';
import { dbStep, defineWorkflow, wakeWaitingRuns } from '../../../engine/index.ts';
import type { AnyWorkflow, DbStepContext, StepContext } from '../../../engine/index.ts';
import { emitEvent, renderReceiptPdf } from '../../../notify/index.ts';
import {
  createReceipt,
  findInvoice,
  getCustomer,
  getPayment,
  markInvoicePaid,
  recordPayment,
  findPayment,
} from '../../records/index.ts';
import type { Customer, Payment, PaymentStatus } from '../../records/index.ts';
import { countPayment, refreshCustomerStatus } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { sellerParty } from '../shared/documents.ts';
import { paymentRunInputParser } from '../shared/payment-input.ts';
import type { PaymentRunInput } from '../shared/payment-input.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER, iso } from '../shared/steps.ts';
import { customerEmailStep, customerView, internalNoticeStep } from '../shared/notify-steps.ts';

export interface RecordPaymentOutput {
  payment_id: string;
  customer_id: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  invoice_id: string | null;
  /** The invoice after this payment: paid (now or already), or void (paid nonetheless). */
  invoice_status?: string;
  /** Runs waiting on the invoice that were woken (its invoice_creation run ends as paid). */
  woken_runs?: string[];
  retry_of: string | null;
}

/**
 * Records a payment (a repeat of a provider reference yields the first record) and, when it pays
 * an open invoice, marks it paid and wakes the invoice's run so it ends now rather than at the
 * due date — in the same transaction, so the woken step sees the invoice paid.
 */
export async function recordPaymentStep(
  ctx: DbStepContext<PaymentRunInput>,
  input: PaymentRunInput,
): Promise<RecordPaymentOutput> {
  const { payment_id, payment_method, ...facts } = input;
  void payment_method;
  // An existing payment (a manual trigger for it) is taken as it is.
  const payment =
    (await findPayment(ctx.tx, payment_id)) ?? (await recordPayment(ctx.tx, facts, { id: payment_id, at: ctx.now() }));
  await emitEvent(ctx.tx, { type: 'payment.succeeded', payload: payment, runId: ctx.runId });
  const output: RecordPaymentOutput = {
    payment_id: payment.id,
    customer_id: payment.customer_id,
    amount: payment.amount,
    currency: payment.currency,
    status: payment.status,
    invoice_id: payment.invoice_id,
    retry_of: payment.retry_of,
  };
  if (payment.status === 'succeeded' && payment.invoice_id) {
    Object.assign(output, await payInvoiceWith(ctx.tx, payment, ctx.now()));
  }
  return output;
}

async function payInvoiceWith(q: Queryable, payment: Payment, now: Date) {
  const invoiceId = payment.invoice_id as string;
  // Locked so an invoice run deciding whether to wait sees this payment, or is woken by it.
  const { rows } = await q.query<{ status: string }>('SELECT status FROM invoices WHERE id = $1 FOR UPDATE', [
    invoiceId,
  ]);
  const status = rows[0]?.status;
  if (status !== 'open') return { invoice_status: status ?? 'missing' };
  await markInvoicePaid(q, invoiceId, { at: now, payment_id: payment.id });
  const woken = await wakeWaitingRuns(q, {
    subjectRef: invoiceId,
    type: 'invoice_creation',
    now,
    actor: 'system',
    reason: `paid by payment ${payment.id}`,
  });
  return { invoice_status: 'paid', woken_runs: woken.map((w) => w.id) };
}

async function receiptPdf(deps: WorkflowDeps, q: Queryable, payment: Payment, customer: Customer, number: string) {
  const invoice = payment.invoice_id ? await findInvoice(q, payment.invoice_id) : undefined;
  return renderReceiptPdf({
    number,
    paidAt: payment.created_at,
    currency: payment.currency,
    seller: sellerParty(deps),
    customer: { name: customer.name ?? customer.email, email: customer.email },
    amount: payment.amount,
    paymentId: payment.id,
    invoiceNumber: invoice?.number,
    locale: customer.locale,
    lines: invoice?.lines.map((l) => ({
      description: l.description,
      quantity: l.quantity,
      unitAmount: l.unit_amount,
      amount: l.amount,
    })),
  });
}

export function paymentSuccess(deps: WorkflowDeps): AnyWorkflow {
  const recorded = dbStep({
    name: 'record_payment',
    retry: DB_RETRY,
    run: (ctx: DbStepContext<PaymentRunInput>) => recordPaymentStep(ctx, ctx.input),
  });
  const receipt = dbStep({
    name: 'generate_receipt',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<PaymentRunInput>) {
      const { payment_id } = recorded.output(ctx);
      const receipt = await createReceipt(ctx.tx, payment_id, { at: ctx.now() });
      return { receipt_id: receipt.id, number: receipt.number };
    },
  });
  const templateDataOf = (payment: Payment, ctx: StepContext<PaymentRunInput>) => ({
    payment: { id: payment.id, amount: payment.amount, currency: payment.currency, paid_at: iso(payment.created_at) },
    receipt: { number: receipt.output(ctx).number },
  });
  const templateData = async (q: Queryable, ctx: StepContext<PaymentRunInput>) =>
    templateDataOf(await getPayment(q, recorded.output(ctx).payment_id), ctx);
  return defineWorkflow<PaymentRunInput>({
    type: 'payment_success',
    parseInput: paymentRunInputParser('succeeded'),
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      recorded,
      receipt,
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const payment = recorded.output(ctx);
          // False when another run already counted this payment (the same provider payment twice).
          const counted = await countPayment(ctx.tx, payment.payment_id);
          const status = await refreshCustomerStatus(ctx.tx, payment.customer_id, ctx.now());
          return {
            counted,
            revenue: counted ? { amount: payment.amount, currency: payment.currency } : null,
            customer_status: status.after,
          };
        },
      },
      customerEmailStep<PaymentRunInput>(deps, 'payment_succeeded', async (ctx, db) => {
        // Each record read once: the receipt and the email share the payment and the customer.
        const payment = await getPayment(db, recorded.output(ctx).payment_id);
        const customer = await getCustomer(db, payment.customer_id);
        const data = templateDataOf(payment, ctx);
        const pdf = await receiptPdf(deps, db, payment, customer, data.receipt.number);
        return {
          customerId: ctx.input.customer_id,
          customer,
          data,
          attachments: [{ filename: `${data.receipt.number}.pdf`, content: pdf, contentType: 'application/pdf' }],
        };
      }),
      internalNoticeStep<PaymentRunInput>(deps, 'payment_succeeded', async (ctx, db) => {
        const customer = await getCustomer(db, ctx.input.customer_id);
        return { data: { customer: customerView(customer), ...(await templateData(db, ctx)) } };
      }),
    ],
  });
}
