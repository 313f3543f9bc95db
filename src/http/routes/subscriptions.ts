// Subscriptions: start one (its subscription_creation run), read it, request its cancellation.
import { requestCancellation, requestPlanChange, startSubscription } from '../../billing/workflows/index.ts';
import { COLLECTION_METHODS, getSubscription } from '../../billing/records/index.ts';
import { ConflictError, InvalidInputError } from '../../errors.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idParams, idString, problemResponses } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import {
  externalRef,
  planChangeSchema,
  recordView,
  startedSchema,
  subscriptionSchema,
  timestampInput,
} from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';
import { recordRoute } from './record-route.ts';

const WHEN = { end_of_period: 'at_period_end', instantly: 'immediately', on_date: 'on_date' } as const;
const REFUND = { none: 'none', prorate: 'prorated', full: 'full' } as const;
/** The operation's field names → the API's, so an error names what the caller sent. */
const CANCEL_FIELDS: Record<string, string> = { mode: 'when', cancel_at: 'date', subscription_id: 'id' };

const PLAN_FIELDS: Record<string, string> = { subscription_id: 'id' };

interface ChangePlanBody {
  plan_code: string;
  when: 'now' | 'period_end';
  reason?: string;
}

interface CancelBody {
  when: keyof typeof WHEN;
  date?: string;
  refund: keyof typeof REFUND;
  reason?: string;
}

export function subscriptionRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    recordRoute(db, {
      collection: '/subscriptions',
      operationId: 'getSubscription',
      prefix: 'sub',
      summary: 'A subscription',
      schema: subscriptionSchema,
      get: getSubscription,
    }),
  ];
  const billing = deps.billing;
  if (!billing) return routes;
  routes.push(
    route<unknown, unknown, Record<string, unknown>>({
      method: 'POST',
      url: '/subscriptions',
      operationId: 'createSubscription',
      access: 'customer_support',
      summary: 'Subscribe a customer to a plan (starts subscription_creation)',
      description: 'The subscription exists when this answers; its run syncs the provider, stats and emails.',
      tags: BILLING_TAGS,
      creates: true,
      body: {
        type: 'object',
        required: ['customer_id', 'plan_code'],
        additionalProperties: false,
        properties: {
          customer_id: idString('cus'),
          plan_code: { type: 'string', minLength: 1, maxLength: 64 },
          trial_days: { type: 'integer', minimum: 0, maximum: 730, description: "Overrides the plan's trial." },
          started_at: timestampInput,
          payment_method: { ...externalRef, description: 'What the provider charges (sandbox: pm_card_ok, …).' },
          provider_subscription_id: { ...externalRef, description: 'Already created at the provider: link it.' },
          collection_method: {
            type: 'string',
            enum: [...COLLECTION_METHODS],
            description:
              'How renewal invoices are collected: charged to the payment method on file (default) or sent to be paid.',
          },
        },
      },
      response: { 201: startedSchema('subscription', subscriptionSchema), ...problemResponses(409) },
      async handler({ body, principal, request }) {
        const started = await startSubscription(db, billing.registry, body, {
          idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
          now: deps.clock(),
        });
        return {
          status: 201,
          body: { subscription: recordView(started.record), workflow_run_id: started.runId },
        };
      },
    }),
    route<{ id: string }, unknown, CancelBody>({
      method: 'POST',
      url: '/subscriptions/:id/cancel',
      operationId: 'cancelSubscription',
      access: 'customer_support',
      summary: 'Request a cancellation (starts subscription_cancellation)',
      description:
        '`when`: end_of_period, instantly or on_date (with `date`); `refund`: none, prorate (the unused share ' +
        'of the last payment) or full. A cancelled subscription is a 409.',
      tags: BILLING_TAGS,
      audit: 'subscription.cancel',
      creates: true,
      params: idParams('sub'),
      body: {
        type: 'object',
        required: ['when', 'refund'],
        additionalProperties: false,
        properties: {
          when: { type: 'string', enum: Object.keys(WHEN) },
          date: timestampInput,
          refund: { type: 'string', enum: Object.keys(REFUND) },
          reason: { type: 'string', minLength: 1, maxLength: 500 },
        },
      },
      response: {
        202: { type: 'object', required: ['workflow_run_id'], properties: { workflow_run_id: { type: 'string' } } },
        ...problemResponses(409),
      },
      async handler({ params, body, principal, request }) {
        // A missing subscription in the path is a missing resource, not a bad field.
        await getSubscription(db, params.id);
        let started;
        try {
          started = await requestCancellation(
            db,
            billing.registry,
            {
              subscription_id: params.id,
              mode: WHEN[body.when],
              refund: REFUND[body.refund],
              ...(body.date === undefined ? {} : { cancel_at: body.date }),
              ...(body.reason === undefined ? {} : { reason: body.reason }),
            },
            {
              idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
              now: deps.clock(),
            },
          );
        } catch (error) {
          if (!(error instanceof InvalidInputError)) throw error;
          throw new InvalidInputError(error.errors.map((e) => ({ ...e, field: CANCEL_FIELDS[e.field] ?? e.field })));
        }
        return {
          status: 202,
          body: { workflow_run_id: started.runId },
          audit: {
            target: params.id,
            reason: body.reason ?? null,
            details: { when: body.when, date: body.date ?? null, refund: body.refund, workflow_run_id: started.runId },
          },
        };
      },
    }),
    route<{ id: string }, unknown, ChangePlanBody>({
      method: 'POST',
      url: '/subscriptions/:id/change-plan',
      operationId: 'changeSubscriptionPlan',
      access: 'customer_support',
      summary: 'Change the plan (starts subscription_plan_change)',
      description:
        '`when`: now (the plan switches at once; the next renewal invoice credits the unused share of the old ' +
        'plan and charges the rest of the period on the new one) or period_end (the renewal switches it, ' +
        'without proration). The plan must be another one on sale, in the same currency and interval. A ' +
        'cancelled subscription, or one with a change already waiting, is a 409.',
      tags: BILLING_TAGS,
      audit: 'subscription.change_plan',
      creates: true,
      params: idParams('sub'),
      body: {
        type: 'object',
        required: ['plan_code', 'when'],
        additionalProperties: false,
        properties: {
          plan_code: { type: 'string', minLength: 1, maxLength: 64 },
          when: { type: 'string', enum: ['now', 'period_end'] },
          reason: { type: 'string', minLength: 1, maxLength: 500 },
        },
      },
      response: { 202: startedSchema('plan_change', planChangeSchema), ...problemResponses(409) },
      async handler({ params, body, principal, request }) {
        await getSubscription(db, params.id);
        let started;
        try {
          started = await requestPlanChange(
            db,
            billing.registry,
            {
              subscription_id: params.id,
              plan_code: body.plan_code,
              when: body.when,
              ...(body.reason === undefined ? {} : { reason: body.reason }),
            },
            {
              idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
              now: deps.clock(),
            },
          );
        } catch (error) {
          // The operation's field names → the API's (the subscription is the path's id).
          if (error instanceof InvalidInputError) {
            throw new InvalidInputError(error.errors.map((e) => ({ ...e, field: PLAN_FIELDS[e.field] ?? e.field })));
          }
          if (error instanceof ConflictError && typeof error.details.field === 'string') {
            const field = PLAN_FIELDS[error.details.field] ?? error.details.field;
            throw new ConflictError(error.message, { ...error.details, field });
          }
          throw error;
        }
        return {
          status: 202,
          body: { plan_change: recordView(started.record), workflow_run_id: started.runId },
          audit: {
            target: params.id,
            reason: body.reason ?? null,
            details: { plan_code: body.plan_code, when: body.when, workflow_run_id: started.runId },
          },
        };
      },
    }),
  );
  return routes;
}
