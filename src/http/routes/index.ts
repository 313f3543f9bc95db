import type { ApiDeps } from '../deps.ts';
import type { RouteSpec } from '../route.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { auditRoutes } from './audit.ts';
import { authRoutes } from './auth.ts';
import { resourceRoutes } from './resources.ts';
import { sessionEndRoutes } from './session-end.ts';
import { userRoutes } from './users.ts';

/**
 * The route table: every /api/v1 route. The server, the OpenAPI document, the role matrix and
 * the fuzz tests all read it, so a route added here is enforced, documented and tested at once.
 */
export function apiRoutes(deps: ApiDeps): RouteSpec[] {
  return [
    ...authRoutes(deps),
    ...sessionEndRoutes(deps),
    ...userRoutes(deps),
    ...apiKeyRoutes(deps),
    ...auditRoutes(deps),
    ...resourceRoutes(deps),
  ];
}
