import type { Db } from '../../../db/types.ts';
import { newId } from '../../../ids.ts';
import type { Registry } from '../../../engine/index.ts';
import { InvalidInputError } from '../../../errors.ts';
import { findChargeback, findChargebackByProviderReference, findPayment, getChargeback } from '../../records/index.ts';
import type { Chargeback } from '../../records/index.ts';
import type { TriggerBuilder } from '../shared/module.ts';
import type { OperationOptions, OperationResult } from '../shared/operation-options.ts';
import { existingRecordRun, startRecordRun } from '../shared/operation.ts';
import type { ChargebackRequest } from './input.ts';

/**
 * Records a chargeback (dispute) against a succeeded payment and starts its chargeback_creation
 * run. The same provider dispute seen again is the same chargeback and run.
 */
export async function startChargeback(
  db: Db,
  registry: Registry,
  input: ChargebackRequest,
  options: OperationOptions = {},
): Promise<OperationResult<Chargeback>> {
  if (input.provider_reference) {
    const known = await findChargebackByProviderReference(db, input.provider_reference);
    const existing = known && (await existingRecordRun(db, 'chargeback_creation', known));
    if (existing) return existing;
  }
  const payment = await findPayment(db, input.payment_id);
  if (!payment) throw new InvalidInputError([{ field: 'payment_id', message: `no payment ${input.payment_id}` }]);
  const id = newId('cb');
  return startRecordRun(
    db,
    registry,
    {
      type: 'chargeback_creation',
      input: { ...input, chargeback_id: id },
      recordId: id,
      idField: 'chargeback_id',
      ownerRef: payment.customer_id,
    },
    options,
    getChargeback,
  );
}

/** A manual trigger for an existing chargeback: its run again, from the chargeback as it is. */
export const chargebackCreationTrigger: TriggerBuilder = {
  prefix: 'cb',
  async build(q, id) {
    const c = await findChargeback(q, id);
    if (!c) return undefined;
    return {
      ownerRef: c.customer_id,
      input: {
        chargeback_id: c.id,
        payment_id: c.payment_id,
        amount: c.amount,
        status: c.status,
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.provider_reference ? { provider_reference: c.provider_reference } : {}),
      },
    };
  },
};
