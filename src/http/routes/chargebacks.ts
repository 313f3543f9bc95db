// Chargebacks: record a dispute against a payment (starts chargeback_creation) and read it.
import { startChargeback } from '../../billing/workflows/index.ts';
import { CHARGEBACK_STATUSES, getChargeback } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idString, problemResponses } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import { amountInput, chargebackSchema, externalRef, recordView, startedSchema } from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';
import { recordRoute } from './record-route.ts';

export function chargebackRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    recordRoute(db, {
      collection: '/chargebacks',
      operationId: 'getChargeback',
      prefix: 'cb',
      summary: 'A chargeback',
      schema: chargebackSchema,
      get: getChargeback,
    }),
  ];
  const billing = deps.billing;
  if (!billing) return routes;
  routes.push(
    route<unknown, unknown, Record<string, unknown>>({
      method: 'POST',
      url: '/chargebacks',
      operationId: 'recordChargeback',
      access: 'customer_support',
      summary: 'Record a chargeback (dispute) against a payment (starts chargeback_creation)',
      description: 'Without `amount`, the whole payment is disputed.',
      tags: BILLING_TAGS,
      audit: 'chargeback.create',
      creates: true,
      body: {
        type: 'object',
        required: ['payment_id'],
        additionalProperties: false,
        properties: {
          payment_id: idString('pay'),
          amount: amountInput,
          reason: { type: 'string', minLength: 1, maxLength: 200, description: 'e.g. fraudulent' },
          status: { type: 'string', enum: [...CHARGEBACK_STATUSES] },
          provider_reference: { ...externalRef, description: "The provider's dispute id." },
        },
      },
      response: { 201: startedSchema('chargeback', chargebackSchema), ...problemResponses(409) },
      async handler({ body, principal, request }) {
        const started = await startChargeback(db, billing.registry, body, {
          idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
          now: deps.clock(),
        });
        return {
          status: 201,
          body: { chargeback: recordView(started.record), workflow_run_id: started.runId },
          audit: {
            target: started.record.id,
            reason: typeof body.reason === 'string' ? body.reason : null,
            details: {
              payment_id: started.record.payment_id,
              amount: started.record.amount,
              workflow_run_id: started.runId,
            },
          },
        };
      },
    }),
  );
  return routes;
}
