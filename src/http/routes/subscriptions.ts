// Subscriptions: read one (the routes that start subscription_creation, subscription_cancellation
// and subscription_plan_change are declared by their folders).
import { getSubscription } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route.ts';
import { subscriptionSchema } from '../schemas/billing.ts';
import { recordRoute } from './record-route.ts';

export function subscriptionRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    recordRoute(deps.db, {
      collection: '/subscriptions',
      operationId: 'getSubscription',
      prefix: 'sub',
      summary: 'A subscription',
      schema: subscriptionSchema,
      get: getSubscription,
    }),
  ];
}
