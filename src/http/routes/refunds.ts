// Refunds: issue one (its refund_creation run refunds at the provider) and read it.
import { startRefund } from '../../billing/workflows/index.ts';
import { getRefund } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idString, problemResponses } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import { amountInput, externalRef, recordView, refundSchema, startedSchema } from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';
import { recordRoute } from './record-route.ts';

export function refundRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    recordRoute(db, {
      collection: '/refunds',
      operationId: 'getRefund',
      prefix: 're',
      summary: 'A refund',
      schema: refundSchema,
      get: getRefund,
    }),
  ];
  const billing = deps.billing;
  if (!billing) return routes;
  routes.push(
    route<unknown, unknown, Record<string, unknown>>({
      method: 'POST',
      url: '/refunds',
      operationId: 'createRefund',
      access: 'customer_support',
      summary: 'Refund (part of) a payment (starts refund_creation)',
      description:
        'Without `amount`, everything still refundable on the payment. Never more than was paid. A payment ' +
        'recorded without a provider reference cannot be refunded at the provider: 400, unless ' +
        '`provider_refund_id` records a refund made elsewhere. A refund whose run fails before the provider ' +
        'made it becomes `failed`, one whose run is cancelled `cancelled`: neither counts nor holds its amount.',
      tags: BILLING_TAGS,
      audit: 'refund.create',
      creates: true,
      body: {
        type: 'object',
        required: ['payment_id'],
        additionalProperties: false,
        properties: {
          payment_id: idString('pay'),
          amount: amountInput,
          reason: { type: 'string', minLength: 1, maxLength: 500 },
          provider_refund_id: {
            ...externalRef,
            description:
              'Already refunded at the provider (or elsewhere, for a payment recorded without one): recorded as ' +
              'done, never refunded again.',
          },
        },
      },
      response: { 201: startedSchema('refund', refundSchema), ...problemResponses(409) },
      async handler({ body, principal, request }) {
        const started = await startRefund(db, billing.registry, body, {
          idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
          now: deps.clock(),
        });
        return {
          status: 201,
          body: { refund: recordView(started.record), workflow_run_id: started.runId },
          audit: {
            target: started.record.id,
            reason: typeof body.reason === 'string' ? body.reason : null,
            details: {
              payment_id: started.record.payment_id,
              amount: started.record.amount,
              currency: started.record.currency,
              workflow_run_id: started.runId,
            },
          },
        };
      },
    }),
  );
  return routes;
}
