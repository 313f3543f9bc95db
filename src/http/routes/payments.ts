// Payments: read one (POST /payments, which starts payment_success or payment_failure, is declared
// by the payment workflows).
import { getPayment } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route.ts';
import { paymentSchema } from '../schemas/billing.ts';
import { recordRoute } from './record-route.ts';

export function paymentRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    recordRoute(deps.db, {
      collection: '/payments',
      operationId: 'getPayment',
      prefix: 'pay',
      summary: 'A payment attempt',
      schema: paymentSchema,
      get: getPayment,
    }),
  ];
}
