// subscription_cancellation: cancel → refund (its own refund_creation run) → provider → stats →
// customer email → team notice.
import { dbStep, defineWorkflow } from '../../../engine/index.ts';
import { emitEvent } from '../../../notify/index.ts';
import type { AnyWorkflow, DbStepContext } from '../../../engine/index.ts';
import { newId } from '../../../ids.ts';
import { RetryableError } from '../../../errors.ts';
import {
  cancelSubscription,
  cancellationRefundAmount,
  getSubscription,
  lastSucceededPayment,
} from '../../records/index.ts';
import type { Subscription } from '../../records/index.ts';
import type { CancelWhen } from '../../../providers/index.ts';
import { countSubscriptionCancelled, refreshCustomerStatus } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { creationOnTheWay } from '../shared/creation.ts';
import { doneAtProvider } from '../shared/origin.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER, EXTERNAL_RETRY, iso } from '../shared/steps.ts';
import { customerEmailStep, internalNoticeStep } from '../shared/notify-steps.ts';
import { subscriptionView } from '../shared/documents.ts';
import { parseCancellationRunInput } from './input.ts';
import type { CancellationRunInput } from './input.ts';

export interface IssuedRefund {
  refund: CancellationRunInput['refund'];
  amount: number;
  currency: string;
  payment_id?: string;
  refund_id?: string;
  refund_run_id?: string;
}

function providerWhen(input: CancellationRunInput, subscription: Subscription): CancelWhen {
  if (input.mode === 'immediately') return 'now';
  if (input.mode === 'at_period_end') return 'period_end';
  return subscription.cancel_at ?? 'now';
}

async function cancellationData(q: Parameters<typeof getSubscription>[0], id: string, issued: IssuedRefund) {
  const subscription = await getSubscription(q, id);
  const view = await subscriptionView(q, subscription);
  return {
    customerId: subscription.customer_id,
    data: {
      subscription: { ...view, ends_at: iso(subscription.cancel_at) },
      ...(issued.amount > 0
        ? { refund: { id: issued.refund_id, amount: issued.amount, currency: issued.currency } }
        : {}),
    },
  };
}

export function subscriptionCancellation(deps: WorkflowDeps): AnyWorkflow {
  const cancelled = dbStep({
    name: 'cancel_subscription',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<CancellationRunInput>) {
      const { subscription_id, mode, cancel_at, reason } = ctx.input;
      const subscription = await cancelSubscription(
        ctx.tx,
        subscription_id,
        { mode, cancel_at, reason },
        {
          at: ctx.now(),
        },
      );
      await emitEvent(ctx.tx, { type: 'subscription.cancelled', payload: subscription, runId: ctx.runId });
      return {
        subscription_id: subscription.id,
        customer_id: subscription.customer_id,
        mode,
        status: subscription.status,
        cancel_at: iso(subscription.cancel_at),
      };
    },
  });
  const issued = dbStep({
    name: 'issue_refund',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<CancellationRunInput>): Promise<IssuedRefund> {
      const subscription = await getSubscription(ctx.tx, cancelled.output(ctx).subscription_id);
      const mode = ctx.input.refund;
      const base = { refund: mode, amount: 0, currency: subscription.currency };
      if (mode === 'none') return base;
      const payment = await lastSucceededPayment(ctx.tx, subscription.id);
      if (!payment) return base;
      const amount = cancellationRefundAmount({
        refund: mode,
        cancelAt: subscription.cancel_at ?? ctx.now(),
        subscription,
        payment,
      });
      if (amount <= 0) return { ...base, payment_id: payment.id };
      // The refund is a run of its own (provider call, stats, emails), started exactly once
      // with this step; its record is written in the same transaction.
      const refundId = newId('re');
      const started = await deps.startRun(ctx.tx, {
        type: 'refund_creation',
        input: {
          refund_id: refundId,
          payment_id: payment.id,
          amount,
          reason: mode === 'full' ? 'cancellation' : 'prorated cancellation',
        },
        idempotencyKey: `${ctx.runId}:refund`,
        subjectRef: refundId,
        ownerRef: subscription.customer_id,
        runFirstStep: true,
        now: ctx.now(),
      });
      const output = started.firstStepOutput as { refund_id?: string } | undefined;
      return {
        ...base,
        amount,
        payment_id: payment.id,
        refund_id: output?.refund_id ?? refundId,
        refund_run_id: started.runId,
      };
    },
  });
  return defineWorkflow<CancellationRunInput>({
    type: 'subscription_cancellation',
    parseInput: parseCancellationRunInput,
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      cancelled,
      issued,
      {
        name: 'sync_payment_provider',
        kind: 'external',
        retry: EXTERNAL_RETRY,
        async run(ctx) {
          if (ctx.input.origin) {
            return { provider: deps.provider.name, action: 'none', reason: doneAtProvider(ctx.input.origin) };
          }
          const id = cancelled.output(ctx).subscription_id;
          let subscription = await getSubscription(deps.db, id);
          if (!subscription.provider_subscription_id) {
            // Not there yet is not "never there": its creation may be creating it right now.
            const creation = await creationOnTheWay(deps.db, id);
            if (creation) {
              throw new RetryableError(
                `subscription ${id} is not at the provider yet: waiting for ${creation} to get it there, then cancelling it`,
              );
            }
            // Read again after seeing the creation done: it records the provider id before that.
            subscription = await getSubscription(deps.db, id);
          }
          if (!subscription.provider_subscription_id) {
            return { provider: deps.provider.name, action: 'none', reason: 'not at the provider' };
          }
          const result = await deps.provider.cancelSubscription({
            idempotencyKey: ctx.idempotencyKey,
            providerReference: subscription.provider_subscription_id,
            when: providerWhen(ctx.input, subscription),
          });
          return {
            provider: deps.provider.name,
            action: 'cancelled',
            subscription: result.provider_reference,
            status: result.status,
            cancel_at: result.cancel_at,
            canceled_at: result.canceled_at,
          };
        },
      },
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const { subscription_id, customer_id } = cancelled.output(ctx);
          const counted = await countSubscriptionCancelled(ctx.tx, subscription_id);
          const status = await refreshCustomerStatus(ctx.tx, customer_id, ctx.now());
          return { counted, customer_status: status.after };
        },
      },
      customerEmailStep<CancellationRunInput>(deps, 'subscription_cancelled', (ctx, q) =>
        cancellationData(q, cancelled.output(ctx).subscription_id, issued.output(ctx)),
      ),
      internalNoticeStep<CancellationRunInput>(deps, 'subscription_cancelled', (ctx, q) =>
        cancellationData(q, cancelled.output(ctx).subscription_id, issued.output(ctx)),
      ),
    ],
  });
}
