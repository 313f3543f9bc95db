import type { Db } from '../../../db/types.ts';
import type { Registry } from '../../../engine/index.ts';
import { newId } from '../../../ids.ts';
import { checkPlanChange, findPlanChange, getPlan, getPlanChange } from '../../records/index.ts';
import type { PlanChange } from '../../records/index.ts';
import type { TriggerBuilder } from '../shared/module.ts';
import type { OperationOptions, OperationResult } from '../shared/operation-options.ts';
import { startRecordRun } from '../shared/operation.ts';
import type { PlanChangeRequest, PlanChangeRunInput } from './input.ts';

/**
 * Changes a subscription's plan, now (proration on the next invoice) or at its period's end, and
 * starts its subscription_plan_change run. Everything that would refuse the change is checked
 * before the run starts; the run's first step checks again under the subscription's lock.
 */
export async function requestPlanChange(
  db: Db,
  registry: Registry,
  request: PlanChangeRequest & { subscription_id: string },
  options: OperationOptions = {},
): Promise<OperationResult<PlanChange>> {
  const input: PlanChangeRunInput = { plan_change_id: newId('pch'), ...request };
  const { subscription } = await checkPlanChange(db, input, options.now ?? new Date());
  // The run is about the subscription (it lists with its other runs); its record is the change.
  return startRecordRun(
    db,
    registry,
    {
      type: 'subscription_plan_change',
      input: { ...input },
      recordId: subscription.id,
      idField: 'plan_change_id',
      ownerRef: subscription.customer_id,
    },
    options,
    getPlanChange,
  );
}

/**
 * A manual trigger for an existing plan change: its run again with the change as recorded (the
 * first step finds the record rather than changing the plan a second time).
 */
export const subscriptionPlanChangeTrigger: TriggerBuilder = {
  prefix: 'pch',
  async build(q, id, reason) {
    const change = await findPlanChange(q, id);
    if (!change) return undefined;
    const plan = await getPlan(q, change.to_plan_id);
    return {
      ownerRef: change.customer_id,
      input: {
        plan_change_id: change.id,
        subscription_id: change.subscription_id,
        plan_code: plan.code,
        when: change.timing,
        reason: change.reason ?? reason,
      },
    };
  },
};
