// Payments: record one processed elsewhere (starts payment_success or payment_failure), read one.
import { startPayment } from '../../billing/workflows/index.ts';
import { PAYMENT_STATUSES, getPayment } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { idString, problemResponses } from '../schemas.ts';
import { actorFrom, operationKey } from '../schemas/common.ts';
import {
  amountInput,
  currencyInput,
  externalRef,
  paymentSchema,
  recordView,
  startedSchema,
} from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';
import { recordRoute } from './record-route.ts';

export function paymentRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    recordRoute(db, {
      collection: '/payments',
      operationId: 'getPayment',
      prefix: 'pay',
      summary: 'A payment attempt',
      schema: paymentSchema,
      get: getPayment,
    }),
  ];
  const billing = deps.billing;
  if (!billing) return routes;
  routes.push(
    route<unknown, unknown, Record<string, unknown>>({
      method: 'POST',
      url: '/payments',
      operationId: 'recordPayment',
      access: 'customer_support',
      summary: 'Record a payment processed elsewhere (starts payment_success or payment_failure)',
      description: 'A failed payment needs `failure_code` (e.g. insufficient_funds); dunning charges it again.',
      tags: BILLING_TAGS,
      creates: true,
      body: {
        type: 'object',
        required: ['customer_id', 'amount', 'currency', 'status'],
        additionalProperties: false,
        properties: {
          customer_id: idString('cus'),
          amount: amountInput,
          currency: currencyInput,
          status: { type: 'string', enum: [...PAYMENT_STATUSES] },
          invoice_id: idString('inv'),
          subscription_id: idString('sub'),
          failure_code: { type: 'string', minLength: 1, maxLength: 64 },
          provider_reference: externalRef,
          payment_method: { ...externalRef, description: 'What dunning charges again after a failure.' },
        },
      },
      response: { 201: startedSchema('payment', paymentSchema), ...problemResponses(409) },
      async handler({ body, principal, request }) {
        const started = await startPayment(db, billing.registry, body, {
          idempotencyKey: operationKey(actorFrom(principal), request.headers['idempotency-key']),
          now: deps.clock(),
        });
        return { status: 201, body: { payment: recordView(started.record), workflow_run_id: started.runId } };
      },
    }),
  );
  return routes;
}
