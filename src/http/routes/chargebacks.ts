// Chargebacks: read one (POST /chargebacks, which starts chargeback_creation, is declared by its folder).
import { getChargeback } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route.ts';
import { chargebackSchema } from '../schemas/billing.ts';
import { recordRoute } from './record-route.ts';

export function chargebackRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    recordRoute(deps.db, {
      collection: '/chargebacks',
      operationId: 'getChargeback',
      prefix: 'cb',
      summary: 'A chargeback',
      schema: chargebackSchema,
      get: getChargeback,
    }),
  ];
}
