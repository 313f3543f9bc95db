// POST /subscriptions/{id}/change-plan: the API route that starts subscription_plan_change.
import { ConflictError, InvalidInputError } from '../../../errors.ts';
import { getSubscription } from '../../records/index.ts';
import { planChangeSchema } from '../../records/views.ts';
import { startRoute } from '../shared/module.ts';
import { PlanChangeRequest } from './input.ts';
import { requestPlanChange } from './operation.ts';

/** The operation's field names → the API's (the subscription is the path's id). */
const apiField = (field: string) => (field === 'subscription_id' ? 'id' : field);

export const subscriptionPlanChangeRoute = startRoute({
  method: 'post',
  path: '/subscriptions/{id}/change-plan',
  operationId: 'changeSubscriptionPlan',
  access: 'customer_support',
  summary: 'Change the plan (starts subscription_plan_change)',
  description:
    '`when`: now (the plan switches at once; the next renewal invoice credits the unused share of the old ' +
    'plan and charges the rest of the period on the new one) or period_end (the renewal switches it, ' +
    'without proration). The plan must be another one on sale, in the same currency and interval. A ' +
    'cancelled subscription, or one with a change already waiting, is a 409.',
  idPrefix: 'sub',
  body: PlanChangeRequest,
  status: 202,
  answer: { name: 'plan_change', schema: planChangeSchema },
  async start(db, registry, { body, id = '' }, options) {
    await getSubscription(db, id);
    try {
      return await requestPlanChange(db, registry, { subscription_id: id, ...body }, options);
    } catch (error) {
      if (error instanceof InvalidInputError) {
        throw new InvalidInputError(error.errors.map((e) => ({ ...e, field: apiField(e.field) })));
      }
      if (error instanceof ConflictError && typeof error.details.field === 'string') {
        throw new ConflictError(error.message, { ...error.details, field: apiField(error.details.field) });
      }
      throw error;
    }
  },
  audit: {
    action: 'subscription.change_plan',
    entry: ({ body, id }, started) => ({
      target: id ?? null,
      reason: body.reason ?? null,
      details: { plan_code: body.plan_code, when: body.when, workflow_run_id: started.runId },
    }),
  },
});
