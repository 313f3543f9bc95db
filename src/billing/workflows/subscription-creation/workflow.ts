// subscription_creation: record → provider → stats → customer email → team notice.
import { dbStep, defineWorkflow } from '../../../engine/index.ts';
import { emitEvent } from '../../../notify/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../../engine/index.ts';
import {
  createSubscription,
  getCustomer,
  getPlan,
  getSubscription,
  setCustomerPaymentMethod,
  setProviderCustomerId,
  setProviderSubscriptionId,
  findSubscription,
} from '../../records/index.ts';
import { countSubscriptionCreated, refreshCustomerStatus } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { subscriptionView } from '../shared/documents.ts';
import { parseSubscriptionRunInput } from './input.ts';
import type { SubscriptionCreationInput } from './input.ts';
import { doneAtProvider } from '../shared/origin.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER, EXTERNAL_RETRY, iso } from '../shared/steps.ts';
import { customerEmailStep, internalNoticeStep } from '../shared/notify-steps.ts';

export function subscriptionCreation(deps: WorkflowDeps): AnyWorkflow {
  const recorded = dbStep({
    name: 'create_subscription_record',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<SubscriptionCreationInput>) {
      const subscription =
        (await findSubscription(ctx.tx, ctx.input.subscription_id)) ??
        (await createSubscription(ctx.tx, ctx.input, { id: ctx.input.subscription_id, at: ctx.now() }));
      await emitEvent(ctx.tx, { type: 'subscription.created', payload: subscription, runId: ctx.runId });
      // The first card a customer subscribes with is the one on file for later charges.
      if (ctx.input.payment_method) {
        await setCustomerPaymentMethod(ctx.tx, subscription.customer_id, ctx.input.payment_method, {
          onlyIfUnset: true,
        });
      }
      return {
        subscription_id: subscription.id,
        customer_id: subscription.customer_id,
        status: subscription.status,
        amount: subscription.amount,
        currency: subscription.currency,
        interval: subscription.interval,
        current_period_end: iso(subscription.current_period_end),
      };
    },
  });
  return defineWorkflow<SubscriptionCreationInput>({
    type: 'subscription_creation',
    parseInput: parseSubscriptionRunInput,
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      recorded,
      {
        name: 'sync_payment_provider',
        kind: 'external',
        retry: EXTERNAL_RETRY,
        async run(ctx) {
          // The record as it is now: a cancellation may have run since this run started.
          const subscription = await getSubscription(deps.db, recorded.output(ctx).subscription_id);
          if (ctx.input.origin) {
            return {
              provider: deps.provider.name,
              action: 'none',
              reason: doneAtProvider(ctx.input.origin),
              subscription: subscription.provider_subscription_id,
            };
          }
          const customer = await getCustomer(deps.db, subscription.customer_id);
          // Created at the provider first (linked through the API): never create a second one.
          if (ctx.input.provider_subscription_id) {
            return {
              provider: deps.provider.name,
              action: 'linked',
              customer: customer.provider_customer_id,
              subscription: subscription.provider_subscription_id,
            };
          }
          // Over before it got there: creating it now would leave the provider billing it. An
          // earlier attempt may have made it there and lost the answer: that one is ended too.
          const ended = subscription.cancel_at !== null && subscription.cancel_at <= ctx.now();
          if (ended && !subscription.provider_subscription_id) {
            const made =
              ctx.firstAttempt || !customer.provider_customer_id
                ? null
                : await deps.provider.findSubscription({
                    subscriptionId: subscription.id,
                    customer: customer.provider_customer_id,
                  });
            if (!made) {
              return {
                provider: deps.provider.name,
                action: 'none',
                reason: 'cancelled before it reached the provider',
              };
            }
            await setProviderSubscriptionId(deps.db, subscription.id, made.provider_reference);
            const ending = await deps.provider.cancelSubscription({
              idempotencyKey: `${ctx.idempotencyKey}:cancel`,
              providerReference: made.provider_reference,
              when: 'now',
            });
            return {
              provider: deps.provider.name,
              action: 'cancelled',
              reason: 'cancelled before this run recorded it at the provider',
              subscription: made.provider_reference,
              status: ending.status,
            };
          }
          const providerCustomer = customer.provider_customer_id
            ? customer.provider_customer_id
            : (
                await deps.provider.ensureCustomer({
                  idempotencyKey: `${ctx.idempotencyKey}:customer`,
                  customerId: customer.id,
                  email: customer.email,
                  name: customer.name ?? undefined,
                })
              ).provider_reference;
          if (customer.provider_customer_id !== providerCustomer) {
            await setProviderCustomerId(deps.db, customer.id, providerCustomer);
          }
          const plan = await getPlan(deps.db, subscription.plan_id);
          const created = await deps.provider.createSubscription({
            idempotencyKey: `${ctx.idempotencyKey}:subscription`,
            firstAttempt: ctx.firstAttempt,
            subscriptionId: subscription.id,
            customer: providerCustomer,
            plan: {
              code: plan.code,
              name: plan.name,
              amount: subscription.amount,
              currency: subscription.currency,
              interval: subscription.interval,
            },
            paymentMethod: ctx.input.payment_method ?? customer.payment_method ?? undefined,
          });
          if (subscription.provider_subscription_id !== created.provider_reference) {
            await setProviderSubscriptionId(deps.db, subscription.id, created.provider_reference);
          }
          const output = {
            provider: deps.provider.name,
            action: 'created',
            customer: providerCustomer,
            subscription: created.provider_reference,
            status: created.status,
          };
          if (subscription.cancel_at === null) return output;
          // Its end was scheduled before it got there: the provider gets the same end date.
          const ending = await deps.provider.cancelSubscription({
            idempotencyKey: `${ctx.idempotencyKey}:cancel`,
            providerReference: created.provider_reference,
            when: subscription.cancel_at,
          });
          return { ...output, status: ending.status, cancel_at: ending.cancel_at };
        },
      },
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const { subscription_id, customer_id } = recorded.output(ctx);
          const counted = await countSubscriptionCreated(ctx.tx, subscription_id);
          const status = await refreshCustomerStatus(ctx.tx, customer_id, ctx.now());
          return { counted, customer_status: status.after };
        },
      },
      customerEmailStep<SubscriptionCreationInput>(deps, 'subscription_created', async (ctx, q) => {
        const subscription = await getSubscription(q, recorded.output(ctx).subscription_id);
        return {
          customerId: subscription.customer_id,
          data: { subscription: await subscriptionView(q, subscription) },
        };
      }),
      internalNoticeStep<SubscriptionCreationInput>(deps, 'subscription_created', async (ctx, q) => {
        const subscription = await getSubscription(q, recorded.output(ctx).subscription_id);
        return {
          customerId: subscription.customer_id,
          data: { subscription: await subscriptionView(q, subscription) },
        };
      }),
    ],
  });
}
