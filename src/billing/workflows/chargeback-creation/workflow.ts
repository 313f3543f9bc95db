// chargeback_creation: record → stats → customer email → team notice.
import type { Queryable } from '../../../db/types.ts';
import { dbStep, defineWorkflow } from '../../../engine/index.ts';
import { emitEvent } from '../../../notify/index.ts';
import type { AnyWorkflow, DbStepContext, StepContext } from '../../../engine/index.ts';
import { createChargeback, getChargeback, findChargeback } from '../../records/index.ts';
import type { Chargeback } from '../../records/index.ts';
import { countChargeback } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { parseChargebackRunInput } from './input.ts';
import type { ChargebackCreationInput } from './input.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER } from '../shared/steps.ts';
import { customerEmailStep, internalNoticeStep } from '../shared/notify-steps.ts';

function chargebackView(chargeback: Chargeback) {
  return {
    id: chargeback.id,
    payment_id: chargeback.payment_id,
    amount: chargeback.amount,
    currency: chargeback.currency,
    reason: chargeback.reason,
  };
}

export function chargebackCreation(deps: WorkflowDeps): AnyWorkflow {
  const recorded = dbStep({
    name: 'record_chargeback',
    retry: DB_RETRY,
    async run(ctx: DbStepContext<ChargebackCreationInput>) {
      const { chargeback_id, ...input } = ctx.input;
      const chargeback =
        (await findChargeback(ctx.tx, chargeback_id)) ??
        (await createChargeback(ctx.tx, input, { id: chargeback_id, at: ctx.now() }));
      await emitEvent(ctx.tx, { type: 'chargeback.created', payload: chargeback, runId: ctx.runId });
      return {
        chargeback_id: chargeback.id,
        payment_id: chargeback.payment_id,
        customer_id: chargeback.customer_id,
        amount: chargeback.amount,
        currency: chargeback.currency,
        status: chargeback.status,
      };
    },
  });
  const data = async (ctx: StepContext<ChargebackCreationInput>, q: Queryable) => {
    const chargeback = await getChargeback(q, recorded.output(ctx).chargeback_id);
    return { customerId: chargeback.customer_id, data: { chargeback: chargebackView(chargeback) } };
  };
  return defineWorkflow<ChargebackCreationInput>({
    type: 'chargeback_creation',
    parseInput: parseChargebackRunInput,
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      recorded,
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          return { counted: await countChargeback(ctx.tx, recorded.output(ctx).chargeback_id) };
        },
      },
      customerEmailStep<ChargebackCreationInput>(deps, 'chargeback_created', data),
      internalNoticeStep<ChargebackCreationInput>(deps, 'chargeback_created', data),
    ],
  });
}
