// chargeback_creation: record → stats → customer email → team notice.
import { defineWorkflow } from '../../../engine/index.ts';
import type { AnyWorkflow } from '../../../engine/index.ts';
import { createChargeback, getChargeback, findChargeback } from '../../records/index.ts';
import type { Chargeback } from '../../records/index.ts';
import { countChargeback } from '../../stats/index.ts';
import type { WorkflowDeps } from '../shared/deps.ts';
import { parseChargebackRunInput } from './input.ts';
import type { ChargebackCreationInput } from './input.ts';
import { DB_RETRY, ONE_RUN_PER_CUSTOMER, outputOf } from '../shared/steps.ts';
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
  const chargebackId = (ctx: Parameters<typeof outputOf>[0]) =>
    outputOf<{ chargeback_id: string }>(ctx, 'record_chargeback').chargeback_id;
  const data = async (ctx: Parameters<typeof outputOf>[0], q: Parameters<typeof getChargeback>[0]) => {
    const chargeback = await getChargeback(q, chargebackId(ctx));
    return { customerId: chargeback.customer_id, data: { chargeback: chargebackView(chargeback) } };
  };
  return defineWorkflow<ChargebackCreationInput>({
    type: 'chargeback_creation',
    parseInput: parseChargebackRunInput,
    concurrency: ONE_RUN_PER_CUSTOMER,
    steps: [
      {
        name: 'record_chargeback',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          const { chargeback_id, ...input } = ctx.input;
          const chargeback =
            (await findChargeback(ctx.tx, chargeback_id)) ??
            (await createChargeback(ctx.tx, input, { id: chargeback_id, at: ctx.now() }));
          return {
            chargeback_id: chargeback.id,
            payment_id: chargeback.payment_id,
            customer_id: chargeback.customer_id,
            amount: chargeback.amount,
            currency: chargeback.currency,
            status: chargeback.status,
          };
        },
      },
      {
        name: 'update_stats',
        kind: 'db',
        retry: DB_RETRY,
        async run(ctx) {
          return { counted: await countChargeback(ctx.tx, chargebackId(ctx)) };
        },
      },
      customerEmailStep<ChargebackCreationInput>(deps, 'chargeback_created', data),
      internalNoticeStep<ChargebackCreationInput>(deps, 'chargeback_created', data),
    ],
  }) as AnyWorkflow;
}
