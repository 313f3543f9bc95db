// Refunds: read one (POST /refunds, which starts refund_creation, is declared by its folder).
import { getRefund } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route.ts';
import { refundSchema } from '../schemas/billing.ts';
import { recordRoute } from './record-route.ts';

export function refundRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    recordRoute(deps.db, {
      collection: '/refunds',
      operationId: 'getRefund',
      prefix: 're',
      summary: 'A refund',
      schema: refundSchema,
      get: getRefund,
    }),
  ];
}
