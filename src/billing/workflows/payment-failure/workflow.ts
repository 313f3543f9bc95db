// payment_failure: record_failure → send_customer_email → send_internal_notice → retry_payment
// (durable dunning; a success finishes the run as recovered) → cancel_subscriptions (retries
// exhausted or a hard decline: the customer's subscriptions end now, no refund).
import type { Queryable } from '../../../db/types.ts';
import { dbStep, defineWorkflow } from '../../../engine/index.ts';
import { emitEvent } from '../../../notify/index.ts';
import type { AnyWorkflow, DbStepContext, StepContext } from '../../../engine/index.ts';
import { classifyDecline } from '../../../providers/index.ts';
import { getCustomer, getPayment, recordPayment, findPayment } from '../../records/index.ts';
import { countPayment } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { attemptDueAt, dunningSchedule, retryBlocker, retryPaymentStep } from './dunning.ts';
import type { RecordFailureOutput } from './dunning.ts';
import { paymentRunInputParser } from '../shared/payment-input.ts';
import type { PaymentRunInput } from '../shared/payment-input.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER } from '../shared/steps.ts';
import { customerEmailStep, customerView, internalNoticeStep } from '../shared/notify-steps.ts';

export interface CancelSubscriptionsOutput {
  reason: string;
  /** Each live subscription and the subscription_cancellation run started for it. */
  cancelled: { subscription_id: string; run_id: string; started: boolean }[];
  /** Already scheduled to end: left as they are (a subscription is cancelled once). */
  already_ending: string[];
}

export function paymentFailure(deps: WorkflowDeps): AnyWorkflow {
  const recorded = dbStep({
    name: 'record_failure',
    retry: DB_RETRY,
    // The failure is counted here (payment_failures): this workflow has no update_stats step.
    async run(ctx: DbStepContext<PaymentRunInput>): Promise<RecordFailureOutput> {
      const { payment_id, payment_method, ...facts } = ctx.input;
      void payment_method;
      const payment =
        (await findPayment(ctx.tx, payment_id)) ??
        (await recordPayment(ctx.tx, facts, { id: payment_id, at: ctx.now() }));
      await emitEvent(ctx.tx, { type: 'payment.failed', payload: payment, runId: ctx.runId });
      const counted = await countPayment(ctx.tx, payment.id);
      const failureCode = payment.failure_code ?? 'unknown';
      const decline = classifyDecline(failureCode);
      const failedAt = payment.created_at.toISOString();
      const retryable = retryBlocker(ctx.input, decline) === undefined;
      const next = retryable ? attemptDueAt(failedAt, dunningSchedule(deps), 1) : null;
      return {
        payment_id: payment.id,
        customer_id: payment.customer_id,
        amount: payment.amount,
        currency: payment.currency,
        failure_code: failureCode,
        decline,
        failed_at: failedAt,
        counted,
        next_retry_at: next?.toISOString() ?? null,
      };
    },
  });
  const retry = retryPaymentStep(deps, recorded);
  const failureData = async (q: Queryable, ctx: StepContext<PaymentRunInput>) => {
    const failure = recorded.output(ctx);
    const payment = await getPayment(q, failure.payment_id);
    return {
      payment: {
        id: payment.id,
        amount: payment.amount,
        currency: payment.currency,
        failure_reason: payment.failure_message ?? payment.failure_code?.replace(/_/g, ' '),
      },
      next_retry_at: failure.next_retry_at,
    };
  };
  return defineWorkflow<PaymentRunInput>({
    type: 'payment_failure',
    parseInput: paymentRunInputParser('failed'),
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      recorded,
      customerEmailStep<PaymentRunInput>(deps, 'payment_failed', async (ctx, db) => ({
        customerId: ctx.input.customer_id,
        data: await failureData(db, ctx),
      })),
      internalNoticeStep<PaymentRunInput>(deps, 'payment_failed', async (ctx, db) => {
        const customer = await getCustomer(db, ctx.input.customer_id);
        return { data: { customer: customerView(customer), ...(await failureData(db, ctx)) } };
      }),
      retry,
      {
        name: 'cancel_subscriptions',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx): Promise<CancelSubscriptionsOutput> {
          const failure = recorded.output(ctx);
          const dunning = retry.output(ctx);
          const reason = `payment ${failure.payment_id} unpaid: ${dunning.outcome.replace(/_/g, ' ')}`;
          const { rows } = await ctx.tx.query<{ id: string; cancel_at: Date | null }>(
            `SELECT id, cancel_at FROM subscriptions WHERE customer_id = $1 AND status <> 'cancelled' ORDER BY id`,
            [failure.customer_id],
          );
          const output: CancelSubscriptionsOutput = { reason, cancelled: [], already_ending: [] };
          for (const subscription of rows) {
            if (subscription.cancel_at !== null) {
              output.already_ending.push(subscription.id);
              continue;
            }
            // Its own run, committed with this step: cancelled at once, no refund, announced.
            const started = await deps.startRun(ctx.tx, {
              type: 'subscription_cancellation',
              input: { subscription_id: subscription.id, mode: 'immediately', refund: 'none', reason },
              // One unpaid-cancellation per subscription, even if two failed payments get here.
              idempotencyKey: `${subscription.id}:unpaid-cancellation`,
              subjectRef: subscription.id,
              ownerRef: failure.customer_id,
              now: ctx.now(),
            });
            output.cancelled.push({
              subscription_id: subscription.id,
              run_id: started.runId,
              started: started.created,
            });
          }
          return output;
        },
      },
    ],
  });
}
