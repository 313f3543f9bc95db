// refund_creation: record → provider refund → stats → customer email → team notice.
import { defineWorkflow, externalStep, isSkippedOutput } from '../../../engine/index.ts';
import { emitEvent } from '../../../notify/index.ts';
import type { AnyWorkflow, StepContext } from '../../../engine/index.ts';
import { PermanentError } from '../../../errors.ts';
import {
  createRefund,
  getPayment,
  getRefund,
  recordProviderRefund,
  findRefund,
  markRefundNotExecuted,
  reopenRefund,
} from '../../records/index.ts';
import type { Refund } from '../../records/index.ts';
import type { RefundInput as ProviderRefundInput, RefundResult } from '../../../providers/index.ts';
import { countRefund } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { parseRefundRunInput } from './input.ts';
import type { RefundCreationInput } from './input.ts';
import { doneAtProvider } from '../shared/origin.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER, EXTERNAL_RETRY } from '../shared/steps.ts';
import { customerEmailStep, internalNoticeStep } from '../shared/notify-steps.ts';
import { REFUND_PROVIDER_STEP, lookUpAfterFailure, settleStoppedRun } from './settle.ts';

const PROVIDER_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

function providerReason(reason: string | null): ProviderRefundInput['reason'] {
  const known = PROVIDER_REASONS.find((r) => r === reason);
  return known ?? 'requested_by_customer';
}

function refundView(refund: Refund) {
  return { id: refund.id, amount: refund.amount, currency: refund.currency, reason: refund.reason };
}

export function refundCreation(deps: WorkflowDeps): AnyWorkflow {
  const refundId = (ctx: { input: RefundCreationInput }) => ctx.input.refund_id;
  const providerRefund = externalStep({
    name: REFUND_PROVIDER_STEP,
    retry: EXTERNAL_RETRY,
    whenSkipped:
      'The refund is recorded as not made (cancelled): no money goes back to the customer, its amount can be ' +
      'refunded again, the statistics do not count it and the customer gets no refund email; the team notice ' +
      'says so. A refund made by hand elsewhere is recorded with provider_refund_id instead.',
    async run(ctx: StepContext<RefundCreationInput>) {
      // Failed with its run before the provider made it, and restarted: pending again.
      const refund = await deps.db.transaction((tx) => reopenRefund(tx, refundId(ctx)));
      if (ctx.input.origin) {
        return {
          provider: deps.provider.name,
          action: 'none',
          reason: doneAtProvider(ctx.input.origin),
          status: refund.status,
          provider_refund_id: refund.provider_reference,
        };
      }
      if (refund.status !== 'pending') {
        // Recorded from the provider's own event, or settled by an earlier attempt.
        return {
          provider: deps.provider.name,
          action: 'linked',
          status: refund.status,
          provider_refund_id: refund.provider_reference,
        };
      }
      const payment = await getPayment(deps.db, refund.payment_id);
      if (!payment.provider_reference) {
        throw new PermanentError(`payment ${payment.id} has no provider reference: nothing to refund at the provider`);
      }
      // A PermanentError (the provider's 4xx) fails the run at once; the operator fixes the
      // cause and restarts, and the key makes the retry safe. Any other error may hide a
      // refund made with its answer lost: the provider is asked before the step gives up.
      const query = { idempotencyKey: ctx.idempotencyKey, chargeReference: payment.provider_reference };
      let result: RefundResult;
      try {
        result = await deps.provider.refund({
          ...query,
          firstAttempt: ctx.firstAttempt,
          amount: refund.amount,
          reason: providerReason(refund.reason),
          metadata: { billflow_refund_id: refund.id },
        });
      } catch (error) {
        const found = await lookUpAfterFailure(deps.db, deps.provider, refund, query, error);
        if (!found) throw error;
        result = found;
      }
      await recordProviderRefund(deps.db, refund.id, result);
      return {
        provider: deps.provider.name,
        action: 'refunded',
        status: result.status,
        provider_refund_id: result.provider_reference,
        amount: result.amount,
        failure_code: result.failure_code,
      };
    },
  });
  return defineWorkflow<RefundCreationInput>({
    type: 'refund_creation',
    parseInput: parseRefundRunInput,
    concurrency: ONE_RUN_PER_CUSTOMER,
    onEnd: settleStoppedRun,
    steps: [
      {
        name: 'record_refund',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const { refund_id, payment_id, amount, reason, provider_refund_id } = ctx.input;
          const refund =
            (await findRefund(ctx.tx, refund_id)) ??
            (await createRefund(
              ctx.tx,
              {
                payment_id,
                amount,
                reason,
                status: provider_refund_id ? 'succeeded' : 'pending',
                provider_reference: provider_refund_id,
              },
              { id: refund_id, at: ctx.now() },
            ));
          await emitEvent(ctx.tx, { type: 'refund.created', payload: refund, runId: ctx.runId });
          return {
            refund_id: refund.id,
            payment_id: refund.payment_id,
            customer_id: refund.customer_id,
            amount: refund.amount,
            currency: refund.currency,
            status: refund.status,
          };
        },
      },
      providerRefund,
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const executed = providerRefund.outputOrSkipped(ctx);
          if (isSkippedOutput(executed)) {
            // The operator chose not to make it: recorded as not executed, never counted.
            const refund = await markRefundNotExecuted(
              ctx.tx,
              refundId(ctx),
              'cancelled',
              `an operator skipped ${REFUND_PROVIDER_STEP} (${executed.reason})`,
            );
            return { counted: false, status: refund.status, reason: 'the provider refund was skipped: not executed' };
          }
          // A refused refund moved no money: it is not counted (the recount skips it too).
          if (executed.status === 'failed') {
            return { counted: false, reason: 'the provider refused the refund' };
          }
          return { counted: await countRefund(ctx.tx, refundId(ctx)) };
        },
      },
      customerEmailStep<RefundCreationInput>(deps, 'refund_created', async (ctx, q) => {
        const executed = providerRefund.outputOrSkipped(ctx);
        if (isSkippedOutput(executed)) return { skip: 'the provider refund was skipped: no money was returned' };
        if (executed.status === 'failed') return { skip: 'the provider refused the refund' };
        const refund = await getRefund(q, refundId(ctx));
        return { customerId: refund.customer_id, data: { refund: refundView(refund) } };
      }),
      internalNoticeStep<RefundCreationInput>(deps, 'refund_created', async (ctx, q) => {
        const refund = await getRefund(q, refundId(ctx));
        return { customerId: refund.customer_id, data: { refund: { ...refundView(refund), status: refund.status } } };
      }),
    ],
  });
}
