// subscription_plan_change: record the change (switch now, or schedule it for the renewal) →
// provider → stats → customer email → team notice.
import type { Queryable } from '../../../db/types.ts';
import { dbStep, defineWorkflow } from '../../../engine/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../../engine/index.ts';
import { RetryableError } from '../../../errors.ts';
import {
  changeSubscriptionPlan,
  findPlanChange,
  getPlan,
  getPlanChange,
  getSubscription,
} from '../../records/index.ts';
import { countPlanChange } from '../../stats/index.ts';
import { creationOnTheWay } from '../shared/creation.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { subscriptionView } from '../shared/documents.ts';
import { customerEmailStep, internalNoticeStep } from '../shared/notify-steps.ts';
import { doneAtProvider } from '../shared/origin.ts';
import { DB_RETRY, EXTERNAL_RETRY, ONE_RUN_PER_CUSTOMER, iso } from '../shared/steps.ts';
import { parsePlanChangeRunInput } from './input.ts';
import type { PlanChangeRunInput } from './input.ts';

/** What the subscription_plan_changed templates read (see the preview sample in ./notifications.ts). */
async function planChangeData(q: Queryable, planChangeId: string) {
  const change = await getPlanChange(q, planChangeId);
  const subscription = await getSubscription(q, change.subscription_id);
  const [from, to] = await Promise.all([getPlan(q, change.from_plan_id), getPlan(q, change.to_plan_id)]);
  return {
    customerId: change.customer_id,
    data: {
      subscription: await subscriptionView(q, subscription),
      plan_change: {
        id: change.id,
        when: change.timing,
        effective_at: iso(change.effective_at),
        from_plan_name: from.name,
        from_amount: change.from_amount,
        to_plan_name: to.name,
        to_amount: change.to_amount,
        currency: change.currency,
        interval: change.interval,
        credit_amount: change.credit_amount,
        charge_amount: change.charge_amount,
      },
    },
  };
}

export function subscriptionPlanChange(deps: WorkflowDeps): AnyWorkflow {
  const recorded = dbStep({
    name: 'record_plan_change',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<PlanChangeRunInput>) {
      // A manual trigger re-runs a recorded change: it is not made twice.
      const change =
        (await findPlanChange(ctx.tx, ctx.input.plan_change_id)) ??
        (await changeSubscriptionPlan(ctx.tx, ctx.input, { at: ctx.now() }));
      return {
        plan_change_id: change.id,
        subscription_id: change.subscription_id,
        customer_id: change.customer_id,
        when: change.timing,
        applied: change.applied_at !== null,
        effective_at: iso(change.effective_at),
        from_amount: change.from_amount,
        to_amount: change.to_amount,
        credit_amount: change.credit_amount,
        charge_amount: change.charge_amount,
      };
    },
  });
  return defineWorkflow<PlanChangeRunInput>({
    type: 'subscription_plan_change',
    parseInput: parsePlanChangeRunInput,
    // The subscription's other runs (creation, cancellation, its invoices) go by customer too.
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      recorded,
      {
        name: 'sync_payment_provider',
        kind: 'external',
        retry: EXTERNAL_RETRY,
        async run(ctx) {
          if (ctx.input.origin) {
            return { provider: deps.provider.name, action: 'none', reason: doneAtProvider(ctx.input.origin) };
          }
          const { subscription_id: id, plan_change_id } = recorded.output(ctx);
          let subscription = await getSubscription(deps.db, id);
          if (!subscription.provider_subscription_id) {
            const creation = await creationOnTheWay(deps.db, id);
            if (creation) {
              throw new RetryableError(
                `subscription ${id} is not at the provider yet: waiting for ${creation} to get it there, then changing its plan`,
              );
            }
            subscription = await getSubscription(deps.db, id);
          }
          if (!subscription.provider_subscription_id) {
            return { provider: deps.provider.name, action: 'none', reason: 'not at the provider' };
          }
          const change = await getPlanChange(deps.db, plan_change_id);
          const plan = await getPlan(deps.db, change.to_plan_id);
          const result = await deps.provider.changeSubscriptionPlan({
            idempotencyKey: ctx.idempotencyKey,
            providerReference: subscription.provider_subscription_id,
            plan: {
              code: plan.code,
              name: plan.name,
              amount: plan.amount,
              currency: plan.currency,
              interval: plan.interval,
            },
          });
          return {
            provider: deps.provider.name,
            action: 'plan_changed',
            subscription: result.provider_reference,
            status: result.status,
            plan: plan.code,
          };
        },
      },
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const { plan_change_id, applied, effective_at } = recorded.output(ctx);
          // A change at period end moves ARR when the renewal applies it, and is counted there.
          if (!applied) return { counted: false, reason: `counted when it takes effect at ${effective_at}` };
          const counted = await countPlanChange(ctx.tx, plan_change_id);
          return { counted };
        },
      },
      customerEmailStep<PlanChangeRunInput>(deps, 'subscription_plan_changed', (ctx, q) =>
        planChangeData(q, recorded.output(ctx).plan_change_id),
      ),
      internalNoticeStep<PlanChangeRunInput>(deps, 'subscription_plan_changed', (ctx, q) =>
        planChangeData(q, recorded.output(ctx).plan_change_id),
      ),
    ],
  });
}
