// Billing records as the API shows them: the response schemas of the record routes and of the
// routes that start a run (declared by each workflow type's folder).
import {
  CHARGEBACK_STATUSES,
  COLLECTION_METHODS,
  CUSTOMER_STATUSES,
  INTERVALS,
  INVOICE_STATUSES,
  PAYMENT_STATUSES,
  REFUND_STATUSES,
  SUBSCRIPTION_STATUSES,
} from './index.ts';

type JsonSchema = Record<string, unknown>;

const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const int: JsonSchema = { type: 'integer' };
const timestamp: JsonSchema = { type: 'string', format: 'date-time' };
const nullableTimestamp: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

/** A record's schema, named `title` in the OpenAPI document. */
export function record(title: string, required: string[], properties: Record<string, JsonSchema>): JsonSchema {
  return { title, type: 'object', required, properties };
}

export const customerSchema = record('Customer', ['id', 'email', 'status', 'created_at'], {
  id: str,
  email: str,
  name: nullableStr,
  locale: str,
  currency: nullableStr,
  status: { type: 'string', enum: [...CUSTOMER_STATUSES] },
  provider_customer_id: nullableStr,
  payment_method: nullableStr,
  created_at: timestamp,
  updated_at: timestamp,
});

export const planSchema = record('Plan', ['id', 'code', 'name', 'amount', 'currency', 'interval'], {
  id: str,
  code: str,
  name: str,
  amount: int,
  currency: str,
  interval: { type: 'string', enum: [...INTERVALS] },
  trial_days: int,
  active: { type: 'boolean' },
  created_at: timestamp,
  updated_at: timestamp,
});

export const subscriptionSchema = record('Subscription', ['id', 'customer_id', 'plan_id', 'status'], {
  id: str,
  customer_id: str,
  plan_id: str,
  amount: int,
  currency: str,
  interval: { type: 'string', enum: [...INTERVALS] },
  status: { type: 'string', enum: [...SUBSCRIPTION_STATUSES] },
  started_at: timestamp,
  trial_end: nullableTimestamp,
  current_period_start: timestamp,
  current_period_end: timestamp,
  cancel_requested_at: nullableTimestamp,
  cancel_at: nullableTimestamp,
  cancelled_at: nullableTimestamp,
  cancel_reason: nullableStr,
  provider_subscription_id: nullableStr,
  collection_method: { type: 'string', enum: [...COLLECTION_METHODS] },
  trial_reminded_at: nullableTimestamp,
  created_at: timestamp,
  updated_at: timestamp,
});

export const planChangeSchema = record(
  'PlanChange',
  ['id', 'subscription_id', 'from_plan_id', 'to_plan_id', 'timing', 'effective_at'],
  {
    id: str,
    subscription_id: str,
    customer_id: str,
    from_plan_id: str,
    to_plan_id: str,
    from_amount: int,
    to_amount: int,
    currency: str,
    interval: { type: 'string', enum: [...INTERVALS] },
    timing: { type: 'string', enum: ['now', 'period_end'] },
    reason: nullableStr,
    requested_at: timestamp,
    effective_at: timestamp,
    applied_at: nullableTimestamp,
    period_start: timestamp,
    period_end: timestamp,
    credit_amount: { ...int, description: 'The unused share of the old plan, credited on the next invoice.' },
    charge_amount: { ...int, description: 'The rest of the period on the new plan, charged on the next invoice.' },
    invoice_id: { ...nullableStr, description: 'The renewal invoice that carried the proration.' },
    counted_at: nullableTimestamp,
    created_at: timestamp,
  },
);

const invoiceProperties = {
  id: str,
  number: str,
  customer_id: str,
  subscription_id: nullableStr,
  currency: str,
  total: int,
  status: { type: 'string', enum: [...INVOICE_STATUSES] },
  due_at: timestamp,
  paid_at: nullableTimestamp,
  paid_by_payment_id: nullableStr,
  voided_at: nullableTimestamp,
  provider_invoice_id: nullableStr,
  provider_hosted_url: { ...nullableStr, description: "Stripe's hosted page of a Stripe Billing invoice." },
  provider_pdf_url: { ...nullableStr, description: "Stripe's PDF of a Stripe Billing invoice." },
  period_start: nullableTimestamp,
  period_end: nullableTimestamp,
  created_at: timestamp,
  updated_at: timestamp,
};

export const invoiceSummarySchema = record(
  'InvoiceSummary',
  ['id', 'number', 'customer_id', 'total', 'status'],
  invoiceProperties,
);

export const invoiceSchema = record('Invoice', ['id', 'number', 'customer_id', 'total', 'status', 'lines'], {
  ...invoiceProperties,
  lines: {
    type: 'array',
    items: record('InvoiceLine', ['description', 'quantity', 'unit_amount', 'amount'], {
      position: int,
      description: str,
      quantity: int,
      unit_amount: int,
      amount: int,
    }),
  },
});

export const paymentSchema = record('Payment', ['id', 'customer_id', 'amount', 'currency', 'status'], {
  id: str,
  customer_id: str,
  invoice_id: nullableStr,
  subscription_id: nullableStr,
  retry_of: nullableStr,
  amount: int,
  currency: str,
  status: { type: 'string', enum: [...PAYMENT_STATUSES] },
  failure_code: nullableStr,
  failure_message: nullableStr,
  refunded_amount: int,
  provider_reference: nullableStr,
  created_at: timestamp,
});

export const refundSchema = record('Refund', ['id', 'payment_id', 'customer_id', 'amount', 'currency', 'status'], {
  id: str,
  payment_id: str,
  customer_id: str,
  amount: int,
  currency: str,
  reason: nullableStr,
  status: { type: 'string', enum: [...REFUND_STATUSES] },
  failure_reason: nullableStr,
  provider_reference: nullableStr,
  created_at: timestamp,
  updated_at: timestamp,
});

export const chargebackSchema = record(
  'Chargeback',
  ['id', 'payment_id', 'customer_id', 'amount', 'currency', 'status'],
  {
    id: str,
    payment_id: str,
    customer_id: str,
    amount: int,
    currency: str,
    reason: nullableStr,
    status: { type: 'string', enum: [...CHARGEBACK_STATUSES] },
    provider_reference: nullableStr,
    created_at: timestamp,
    updated_at: timestamp,
  },
);

/** `{ <name>: record, workflow_run_id }`: what a POST that starts a run answers. */
export function startedSchema(name: string, schema: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: [name, 'workflow_run_id'],
    properties: { [name]: schema, workflow_run_id: { type: 'string' } },
  };
}
