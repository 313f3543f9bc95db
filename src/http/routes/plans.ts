// Plans: what subscriptions are sold from.
import { Type } from 'typebox';
import { PlanInput, createPlan, listPlans } from '../../billing/records/index.ts';
import { withKnownCurrency } from '../../billing/records/schemas.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { problemResponses } from '../schemas.ts';
import { planSchema, recordView } from '../schemas/billing.ts';
import { BILLING_TAGS } from './customers.ts';

export function planRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'POST',
      url: '/plans',
      operationId: 'createPlan',
      access: 'customer_support',
      summary: 'Create a plan',
      description: 'Plan codes are unique: a second plan with the same code is a 409 naming `code`.',
      tags: BILLING_TAGS,
      creates: true,
      body: PlanInput,
      response: {
        201: { type: 'object', required: ['plan'], properties: { plan: planSchema } },
        ...problemResponses(409),
      },
      handler: ({ body, transaction }) =>
        transaction(async (tx) => {
          const plan = await createPlan(tx, withKnownCurrency(body), { at: deps.clock() });
          return { status: 201, body: { plan: recordView(plan) } };
        }),
    }),
    route({
      method: 'GET',
      url: '/plans',
      operationId: 'listPlans',
      access: 'viewer',
      summary: 'List plans',
      tags: BILLING_TAGS,
      querystring: Type.Object({ active: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: {
        200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: planSchema } } },
        ...problemResponses(),
      },
      async handler({ query }) {
        const plans = await listPlans(db, query.active === undefined ? {} : { active: query.active });
        return { status: 200, body: { items: plans.map(recordView) } };
      },
    }),
  ];
}
