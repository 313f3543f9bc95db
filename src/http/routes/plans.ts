// Plans: what subscriptions are sold from.
import { INTERVALS, createPlan, listPlans, parsePlanInput } from '../../billing/records/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { problemResponses } from '../schemas.ts';
import { currencyInput, planSchema, recordView } from '../schemas/billing.ts';
import { MAX_AMOUNT } from '../../billing/records/index.ts';
import { BILLING_TAGS } from './customers.ts';

export function planRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route<unknown, unknown, Record<string, unknown>>({
      method: 'POST',
      url: '/plans',
      operationId: 'createPlan',
      access: 'customer_support',
      summary: 'Create a plan',
      description: 'Plan codes are unique: a second plan with the same code is a 409 naming `code`.',
      tags: BILLING_TAGS,
      creates: true,
      body: {
        type: 'object',
        required: ['code', 'name', 'amount', 'currency', 'interval'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'e.g. pro-monthly' },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          amount: { type: 'integer', minimum: 0, maximum: MAX_AMOUNT, description: 'Minor units per interval.' },
          currency: currencyInput,
          interval: { type: 'string', enum: [...INTERVALS] },
          trial_days: { type: 'integer', minimum: 0, maximum: 730 },
        },
      },
      response: {
        201: { type: 'object', required: ['plan'], properties: { plan: planSchema } },
        ...problemResponses(409),
      },
      handler: ({ body, transaction }) =>
        transaction(async (tx) => {
          const plan = await createPlan(tx, parsePlanInput(body), { at: deps.clock() });
          return { status: 201, body: { plan: recordView(plan) } };
        }),
    }),
    route<unknown, { active?: boolean }>({
      method: 'GET',
      url: '/plans',
      operationId: 'listPlans',
      access: 'viewer',
      summary: 'List plans',
      tags: BILLING_TAGS,
      querystring: { type: 'object', additionalProperties: false, properties: { active: { type: 'boolean' } } },
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
