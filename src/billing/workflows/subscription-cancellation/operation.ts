import type { Db } from '../../../db/types.ts';
import type { Registry } from '../../../engine/index.ts';
import { InvalidInputError } from '../../../errors.ts';
import { findSubscription, getSubscription } from '../../records/index.ts';
import type { Subscription } from '../../records/index.ts';
import type { TriggerBuilder } from '../shared/module.ts';
import type { OperationOptions, OperationResult } from '../shared/operation-options.ts';
import { startRecordRun } from '../shared/operation.ts';
import { checkCancellationRequest } from './input.ts';
import type { CancellationFacts } from './input.ts';

/**
 * Requests a subscription's cancellation (at period end, at once, or on a date, with a refund of
 * none, the unused share, or the last payment) and starts its subscription_cancellation run.
 */
export async function requestCancellation(
  db: Db,
  registry: Registry,
  input: CancellationFacts,
  options: OperationOptions = {},
): Promise<OperationResult<Subscription>> {
  checkCancellationRequest(input, options.now ?? new Date());
  const subscription = await findSubscription(db, input.subscription_id);
  if (!subscription) {
    throw new InvalidInputError([{ field: 'subscription_id', message: `no subscription ${input.subscription_id}` }]);
  }
  // An already cancelled subscription: the first step's ConflictError (naming the status) rolls
  // the start back, so no run exists; a repeated key returns the first request's run instead.
  return startRecordRun(
    db,
    registry,
    {
      type: 'subscription_cancellation',
      input: { ...input },
      recordId: subscription.id,
      idField: 'subscription_id',
      ownerRef: subscription.customer_id,
    },
    options,
    getSubscription,
  );
}

/** A manual trigger for an existing subscription: the gentlest cancellation, at period end, nothing refunded. */
export const subscriptionCancellationTrigger: TriggerBuilder = {
  prefix: 'sub',
  async build(q, id, reason) {
    const s = await findSubscription(q, id);
    return (
      s && {
        ownerRef: s.customer_id,
        input: { subscription_id: s.id, mode: 'at_period_end', refund: 'none', reason },
      }
    );
  },
};
