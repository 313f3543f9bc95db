import type { NotificationEvent } from './events.ts';

/**
 * Example data per event: what the editor previews with, and the documented contract of the
 * variables each event's templates may use (the billing steps pass data of this shape).
 * Amounts are integer minor units; `{{ amount | money: currency }}` formats them.
 */
const company = { name: 'Acme Cloud', support_email: 'support@acme.example' };
const customer = { id: 'cus_01a2b3c4d5e6f7a8b9c0', name: 'Ada Lovelace', email: 'ada@example.com' };

const SAMPLES: Record<NotificationEvent, Record<string, unknown>> = {
  subscription_created: {
    company,
    customer,
    subscription: {
      id: 'sub_01a2b3c4d5e6f7a8b9c0',
      plan_name: 'Pro',
      amount: 4900,
      currency: 'EUR',
      interval: 'month',
      current_period_end: '2026-02-05',
    },
  },
  subscription_cancelled: {
    company,
    customer,
    subscription: { id: 'sub_01a2b3c4d5e6f7a8b9c0', plan_name: 'Pro', ends_at: '2026-02-05' },
    refund: { amount: 1633, currency: 'EUR' },
  },
  subscription_plan_changed: {
    company,
    customer,
    subscription: {
      id: 'sub_01a2b3c4d5e6f7a8b9c0',
      plan_name: 'Business',
      amount: 9900,
      currency: 'EUR',
      interval: 'month',
      current_period_end: '2026-02-05',
    },
    plan_change: {
      id: 'pch_01a2b3c4d5e6f7a8b9c0',
      when: 'now',
      effective_at: '2026-01-20T10:00:00Z',
      from_plan_name: 'Pro',
      from_amount: 4900,
      to_plan_name: 'Business',
      to_amount: 9900,
      currency: 'EUR',
      interval: 'month',
      credit_amount: 2370,
      charge_amount: 4790,
    },
  },
  trial_ending: {
    company,
    customer,
    subscription: {
      id: 'sub_01a2b3c4d5e6f7a8b9c0',
      plan_name: 'Pro',
      amount: 4900,
      currency: 'EUR',
      interval: 'month',
      trial_end: '2026-01-19T10:00:00Z',
      collection_method: 'charge_automatically',
    },
  },
  payment_succeeded: {
    company,
    customer,
    payment: { id: 'pay_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', paid_at: '2026-01-05T10:00:00Z' },
    receipt: { number: 'RCT-2026-0001' },
  },
  payment_failed: {
    company,
    customer,
    payment: { id: 'pay_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', failure_reason: 'insufficient funds' },
    next_retry_at: '2026-01-06T10:00:00Z',
  },
  payment_recovered: {
    company,
    customer,
    payment: { id: 'pay_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', paid_at: '2026-01-08T10:00:00Z' },
    attempts: 2,
  },
  invoice_created: {
    company,
    customer,
    invoice: {
      id: 'inv_01a2b3c4d5e6f7a8b9c0',
      number: 'INV-2026-0042',
      total: 123456,
      currency: 'EUR',
      due_date: '2026-02-04',
    },
  },
  invoice_overdue: {
    company,
    customer,
    invoice: {
      id: 'inv_01a2b3c4d5e6f7a8b9c0',
      number: 'INV-2026-0042',
      total: 123456,
      currency: 'EUR',
      due_date: '2026-02-04',
    },
    grace_period_ends: '2026-03-06',
  },
  refund_created: {
    company,
    customer,
    refund: { id: 're_01a2b3c4d5e6f7a8b9c0', amount: 1633, currency: 'EUR', reason: 'prorated cancellation' },
  },
  chargeback_created: {
    company,
    customer,
    chargeback: { id: 'cb_01a2b3c4d5e6f7a8b9c0', amount: 4900, currency: 'EUR', reason: 'fraudulent' },
  },
  customer_disabled: {
    company,
    customer,
    invoice: {
      id: 'inv_01a2b3c4d5e6f7a8b9c0',
      number: 'INV-2026-0042',
      total: 123456,
      currency: 'EUR',
      due_date: '2026-02-04',
    },
  },
  run_failed: {
    run: {
      id: 'run_01a2b3c4d5e6f7a8b9c0',
      type: 'payment_success',
      step: 'send_customer_email',
      error: 'SMTP server unreachable: connect ECONNREFUSED 10.0.0.5:587',
      url: 'https://billflow.example/runs/run_01a2b3c4d5e6f7a8b9c0',
    },
  },
  alert_digest: {
    count: 23,
    more: 20,
    alerts: [
      { run_id: 'run_01a2b3c4d5e6f7a8b9c1', type: 'payment_success', step: 'send_customer_email', error: 'SMTP down' },
      { run_id: 'run_01a2b3c4d5e6f7a8b9c2', type: 'invoice_creation', step: 'send_customer_email', error: 'SMTP down' },
      { run_id: 'run_01a2b3c4d5e6f7a8b9c3', type: 'refund_creation', step: 'execute_provider_refund', error: '500' },
    ],
    by_step: [
      { step: 'send_customer_email', count: 21 },
      { step: 'execute_provider_refund', count: 2 },
    ],
  },
  reconciliation_failed: {
    finding_count: 2,
    checks: [
      { name: 'records_have_runs', title: 'Every billing record has its run', finding_count: 1 },
      { name: 'stats_match_recount', title: 'The statistics equal a recount of the records', finding_count: 1 },
    ],
    url: 'https://billflow.example.com/reconciliation',
  },
  webhook_endpoint_disabled: {
    endpoint: { id: 'whe_0193a2b4c5d6e7f8a9b0c1d2e3f4', origin: 'https://hooks.example.com' },
    days: 5,
    url: 'https://billflow.example.com/settings/webhooks',
  },
};

/** A fresh copy of the sample data for `event`, safe to modify. */
export function sampleData(event: NotificationEvent): Record<string, unknown> {
  return structuredClone(SAMPLES[event]);
}

export interface TemplateVariable {
  /** As a template writes it: `customer.name`; `alerts[].step` is a field of each item of a list. */
  name: string;
  /** The sample value, as text. */
  example: string;
}

/** The variables `data` offers a template, leaves only, in the data's own order. */
export function templateVariables(data: Record<string, unknown>, prefix = ''): TemplateVariable[] {
  return Object.entries(data).flatMap(([key, value]): TemplateVariable[] => {
    const name = `${prefix}${key}`;
    if (Array.isArray(value)) {
      const first: unknown = value[0];
      return isRecord(first) ? templateVariables(first, `${name}[].`) : [{ name, example: JSON.stringify(value) }];
    }
    if (isRecord(value)) return templateVariables(value, `${name}.`);
    return [{ name, example: String(value) }];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Date);
}
