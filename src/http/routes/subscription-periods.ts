// GET /subscriptions/:id/periods: a subscription's billing periods with their invoice, charge and runs.
import { Type } from 'typebox';
import { listSubscriptionPeriods } from '../../billing/calendar/index.ts';
import type { SubscriptionPeriodView } from '../../billing/calendar/index.ts';
import type { ApiDeps } from '../deps.ts';
import { iso } from '../pagination.ts';
import { route } from '../route.ts';
import type { JsonSchema, RouteSpec } from '../route.ts';
import { idParams, nullableTimestamp, problemResponses, timestamp } from '../schemas.ts';
import { runStatusSchema } from '../schemas/run.ts';
import { BILLING_TAGS } from './customers.ts';

const nullableString = { type: ['string', 'null'] };

export const subscriptionPeriodSchema: JsonSchema = {
  title: 'SubscriptionPeriod',
  type: 'object',
  required: ['period_start', 'period_end', 'kind', 'current', 'amount', 'currency', 'invoice', 'runs'],
  properties: {
    period_start: timestamp,
    period_end: timestamp,
    kind: {
      type: 'string',
      enum: ['trial', 'initial', 'trial_conversion', 'renewal'],
      description:
        'trial / initial: the first period, which came with the subscription; trial_conversion: the first paid ' +
        'period after a trial; renewal: a paid period after a paid one.',
    },
    current: { type: 'boolean' },
    amount: { type: 'integer', description: 'Minor units.' },
    currency: { type: 'string' },
    collection_method: nullableString,
    charge_status: {
      ...nullableString,
      description: 'pending (to be charged), charged, skipped (charge_detail says why); null for the first period.',
    },
    charge_detail: nullableString,
    payment_id: { ...nullableString, description: 'The payment the period’s charge made.' },
    renewed_at: nullableTimestamp,
    invoice: {
      anyOf: [
        {
          title: 'PeriodInvoice',
          type: 'object',
          required: ['id', 'number', 'total', 'currency', 'status', 'due_at', 'paid_at'],
          properties: {
            id: { type: 'string' },
            number: { type: 'string' },
            total: { type: 'integer' },
            currency: { type: 'string' },
            status: { type: 'string' },
            due_at: timestamp,
            paid_at: nullableTimestamp,
          },
        },
        { type: 'null' },
      ],
    },
    runs: {
      type: 'array',
      description: 'Oldest first: the invoice’s run and its payments’ runs (the first period: subscription_creation).',
      items: {
        title: 'PeriodRun',
        type: 'object',
        required: ['id', 'type', 'status', 'created_at'],
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          status: runStatusSchema,
          outcome: nullableString,
          subject_ref: { ...nullableString, description: 'The invoice or payment the run is about.' },
          created_at: timestamp,
        },
      },
    },
  },
};

function periodView(p: SubscriptionPeriodView) {
  return {
    ...p,
    period_start: iso(p.period_start),
    period_end: iso(p.period_end),
    renewed_at: iso(p.renewed_at),
    invoice: p.invoice ? { ...p.invoice, due_at: iso(p.invoice.due_at), paid_at: iso(p.invoice.paid_at) } : null,
    runs: p.runs.map((r) => ({ ...r, created_at: iso(r.created_at) })),
  };
}

export function subscriptionPeriodRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/subscriptions/:id/periods',
      operationId: 'listSubscriptionPeriods',
      access: 'viewer',
      summary: 'A subscription’s billing periods, newest first, with their invoice, charge and runs',
      tags: BILLING_TAGS,
      params: idParams('sub'),
      querystring: Type.Object(
        { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 24 })) },
        { additionalProperties: false },
      ),
      response: {
        200: {
          title: 'SubscriptionPeriods',
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: subscriptionPeriodSchema } },
        },
        ...problemResponses(),
      },
      async handler({ params, query }) {
        const periods = await listSubscriptionPeriods(db, params.id, { limit: query.limit ?? 24 });
        return { status: 200, body: { items: periods.map(periodView) } };
      },
    }),
  ];
}
