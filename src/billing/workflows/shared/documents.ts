// Records as customers see them: the invoice PDF and the template data of invoices and
// subscriptions, built from the records (never from a step's stored output: a PDF is rendered
// again when mailed, so no bytes live in the run history).
import type { Queryable } from '../../../db/types.ts';
import { renderInvoicePdf } from '../../../notify/index.ts';
import { getCustomer, getInvoice, getPlan } from '../../records/index.ts';
import type { Invoice, Subscription } from '../../records/index.ts';
import type { WorkflowDeps } from './deps.ts';
import { iso } from './steps.ts';

export async function invoicePdf(deps: WorkflowDeps, q: Queryable, invoiceId: string): Promise<Buffer> {
  const invoice = await getInvoice(q, invoiceId);
  const customer = await getCustomer(q, invoice.customer_id);
  return renderInvoicePdf({
    number: invoice.number,
    issuedAt: invoice.created_at,
    dueDate: invoice.due_at,
    currency: invoice.currency,
    seller: sellerParty(deps),
    customer: { name: customer.name ?? customer.email, email: customer.email },
    lines: invoice.lines.map((l) => ({
      description: l.description,
      quantity: l.quantity,
      unitAmount: l.unit_amount,
      amount: l.amount,
    })),
    total: invoice.total,
    status: invoice.status,
    locale: customer.locale,
  });
}

/** Pages in a PDF, counted from its page objects (enough for the step output the UI shows). */
export function pdfPageCount(pdf: Uint8Array): number {
  return (
    Buffer.from(pdf)
      .toString('latin1')
      .match(/\/Type\s*\/Page(?![s\w])/g) ?? []
  ).length;
}

/** `invoice` as the invoice_* templates use it. */
export function invoiceView(invoice: Invoice) {
  return {
    id: invoice.id,
    number: invoice.number,
    total: invoice.total,
    currency: invoice.currency,
    due_date: iso(invoice.due_at),
  };
}

/** The seller as the PDFs print it. */
export function sellerParty(deps: WorkflowDeps): { name: string; email?: string } {
  const company = deps.notify.company;
  return { name: company?.name ?? 'Billflow', ...(company?.support_email && { email: company.support_email }) };
}

/** The subscription as the subscription_* templates show it. */
export async function subscriptionView(
  q: Parameters<typeof getPlan>[0],
  subscription: Subscription,
): Promise<Record<string, unknown>> {
  const plan = await getPlan(q, subscription.plan_id);
  return {
    id: subscription.id,
    plan_name: plan.name,
    amount: subscription.amount,
    currency: subscription.currency,
    interval: subscription.interval,
    current_period_end: iso(subscription.current_period_end),
    trial_end: iso(subscription.trial_end),
  };
}
