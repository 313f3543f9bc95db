import type { Db } from '../../../db/types.ts';
import { newId } from '../../../ids.ts';
import type { Registry } from '../../../engine/index.ts';
import { InvalidInputError } from '../../../errors.ts';
import { findPayment, findRefund, findRefundByProviderReference, getRefund } from '../../records/index.ts';
import type { Refund } from '../../records/index.ts';
import type { TriggerBuilder } from '../shared/module.ts';
import type { OperationOptions, OperationResult } from '../shared/operation-options.ts';
import { existingRecordRun, startRecordRun } from '../shared/operation.ts';
import type { RefundRequest } from './input.ts';

/**
 * Records a refund of a payment (the whole refundable rest unless `amount`) and starts its
 * refund_creation run. With `provider_refund_id` the refund already happened at the provider
 * (or elsewhere, for a payment recorded without one): the run links it instead of refunding
 * again. Without it, a payment that has no provider reference is refused: nothing could refund it.
 */
export async function startRefund(
  db: Db,
  registry: Registry,
  input: RefundRequest,
  options: OperationOptions = {},
): Promise<OperationResult<Refund>> {
  if (input.provider_refund_id) {
    const known = await findRefundByProviderReference(db, input.provider_refund_id);
    const existing = known && (await existingRecordRun(db, 'refund_creation', known));
    if (existing) return existing;
  }
  const payment = await findPayment(db, input.payment_id);
  if (!payment) throw new InvalidInputError([{ field: 'payment_id', message: `no payment ${input.payment_id}` }]);
  if (!payment.provider_reference && !input.provider_refund_id) {
    // Nothing at the provider to refund: refuse now rather than start a run bound to fail.
    throw new InvalidInputError([
      {
        field: 'payment_id',
        message:
          `payment ${payment.id} was recorded without a payment provider reference, so it cannot be refunded ` +
          'at the provider; refund it where it was paid and record that refund with provider_refund_id',
      },
    ]);
  }
  const id = newId('re');
  return startRecordRun(
    db,
    registry,
    {
      type: 'refund_creation',
      input: { ...input, refund_id: id },
      recordId: id,
      idField: 'refund_id',
      ownerRef: payment.customer_id,
    },
    options,
    getRefund,
  );
}

/** A manual trigger for an existing refund: its run again (a made refund is linked, not made twice). */
export const refundCreationTrigger: TriggerBuilder = {
  prefix: 're',
  async build(q, id, reason) {
    const r = await findRefund(q, id);
    if (!r) return undefined;
    return {
      ownerRef: r.customer_id,
      input: {
        refund_id: r.id,
        payment_id: r.payment_id,
        amount: r.amount,
        reason: r.reason ?? reason,
        ...(r.provider_reference ? { provider_refund_id: r.provider_reference } : {}),
      },
    };
  },
};
