// Mapping Stripe Billing's invoice events (pure), for when Stripe owns the billing calendar:
// Stripe renews and invoices, its invoice events start Billflow's invoice workflows.
import { currency, int, isObject, list, obj, ref, str, unixDate } from './json.ts';
import type { Json } from './json.ts';
import { customerHint, idempotencyKeyFor, missing } from './intents.ts';
import type { InvoiceIntent, StripeIntent } from './intents.ts';

/** The Stripe ids of the payments an invoice names: `payment_intent`/`charge` before API 2025-03-31, `payments` since. */
export function invoicePaymentIds(inv: Json): { intentId: string | null; chargeId: string | null } {
  const paid = list(obj(inv, 'payments'), 'data')
    .concat(list(inv, 'payments'))
    .map((p) => obj(p, 'payment'));
  return {
    intentId: ref(inv, 'payment_intent') ?? paid.map((p) => ref(p, 'payment_intent')).find((id) => id) ?? null,
    chargeId: ref(inv, 'charge') ?? paid.map((p) => ref(p, 'charge')).find((id) => id) ?? null,
  };
}

export function invoiceSubscription(inv: Json): string | null {
  return ref(inv, 'subscription') ?? ref(obj(obj(inv, 'parent'), 'subscription_details'), 'subscription');
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/** invoice.created / invoice.finalized: the invoice, once per Stripe invoice id. */
export function fromBillingInvoice(inv: Json): StripeIntent {
  const invoiceId = str(inv, 'id');
  if (!invoiceId) return missing('invoice', 'id');
  const status = str(inv, 'status');
  if (status === 'void' || status === 'uncollectible') {
    return { kind: 'ignore', detail: `the invoice is ${status} at Stripe: nothing to collect` };
  }
  const code = currency(inv);
  if (!code) return missing('invoice', 'currency');
  const total = int(inv, 'total') ?? int(inv, 'amount_due');
  if (total === null) return missing('invoice', 'total');
  if (total <= 0) return { kind: 'ignore', detail: `the invoice is for ${total}: nothing to collect` };
  const stripeLines = list(obj(inv, 'lines'), 'data').filter(isObject);
  const lines = stripeLines.map((line) => {
    const amount = int(line, 'amount') ?? 0;
    const quantity = Math.max(1, int(line, 'quantity') ?? 1);
    const even = amount % quantity === 0;
    return {
      description: (str(line, 'description') ?? 'Invoice line').slice(0, 500),
      quantity: even ? quantity : 1,
      unit_amount: even ? amount / quantity : amount,
    };
  });
  // Discounts and taxes are outside the lines at Stripe: the difference is a line of its own, so
  // the total here is Stripe's.
  const rest = total - lines.reduce((sum, l) => sum + l.quantity * l.unit_amount, 0);
  if (rest !== 0 || lines.length === 0) {
    lines.push({ description: lines.length === 0 ? 'Invoice' : 'Taxes and discounts', quantity: 1, unit_amount: rest });
  }
  // The service period is the subscription line's (the invoice's own period is the one before).
  const period = obj(stripeLines[0] ?? null, 'period');
  const intent: InvoiceIntent = {
    kind: 'invoice',
    runType: 'invoice_creation',
    idempotencyKey: idempotencyKeyFor(invoiceId, 'invoice_creation'),
    invoiceId,
    customer: customerHint(inv, { email: str(inv, 'customer_email'), name: str(inv, 'customer_name') }),
    providerSubscriptionId: invoiceSubscription(inv),
    currency: code,
    lines,
    dueAt: iso(unixDate(inv, 'due_date')),
    periodStart: iso(unixDate(period, 'start')),
    periodEnd: iso(unixDate(period, 'end')),
    hostedUrl: str(inv, 'hosted_invoice_url'),
    pdfUrl: str(inv, 'invoice_pdf'),
  };
  return intent;
}

/** invoice.paid: the invoice's run stops waiting; the payment is the payment events' to record. */
export function fromPaidInvoice(inv: Json): StripeIntent {
  const invoiceId = str(inv, 'id');
  if (!invoiceId) return missing('invoice', 'id');
  const { intentId, chargeId } = invoicePaymentIds(inv);
  return {
    kind: 'invoice_paid',
    invoiceId,
    paymentIds: [intentId, chargeId].filter((id): id is string => id !== null),
  };
}
