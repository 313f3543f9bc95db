import type { Db } from '../../../db/types.ts';
import { newId } from '../../../ids.ts';
import type { Registry } from '../../../engine/index.ts';
import {
  findSubscription,
  findSubscriptionByProviderId,
  getPlan,
  getSubscription,
  requireCustomer,
} from '../../records/index.ts';
import type { Subscription } from '../../records/index.ts';
import type { TriggerBuilder } from '../shared/module.ts';
import type { OperationOptions, OperationResult } from '../shared/operation-options.ts';
import { existingRecordRun, isoOf, startRecordRun } from '../shared/operation.ts';
import type { SubscriptionRequest } from './input.ts';

/**
 * Creates a subscription and starts its subscription_creation run. With
 * `provider_subscription_id` the subscription already exists at the provider (an inbound event):
 * the run links it instead of creating it there.
 */
export async function startSubscription(
  db: Db,
  registry: Registry,
  input: SubscriptionRequest,
  options: OperationOptions = {},
): Promise<OperationResult<Subscription>> {
  if (input.provider_subscription_id) {
    const known = await findSubscriptionByProviderId(db, input.provider_subscription_id);
    const existing = known && (await existingRecordRun(db, 'subscription_creation', known));
    if (existing) return existing;
  }
  const customer = await requireCustomer(db, input.customer_id);
  const id = newId('sub');
  return startRecordRun(
    db,
    registry,
    {
      type: 'subscription_creation',
      input: { ...input, subscription_id: id },
      recordId: id,
      idField: 'subscription_id',
      ownerRef: customer.id,
    },
    options,
    getSubscription,
  );
}

/** A manual trigger for an existing subscription: its creation run again (it finds the record). */
export const subscriptionCreationTrigger: TriggerBuilder = {
  prefix: 'sub',
  async build(q, id) {
    const s = await findSubscription(q, id);
    if (!s) return undefined;
    const plan = await getPlan(q, s.plan_id);
    return {
      ownerRef: s.customer_id,
      input: {
        subscription_id: s.id,
        customer_id: s.customer_id,
        plan_code: plan.code,
        started_at: isoOf(s.started_at),
        ...(s.provider_subscription_id ? { provider_subscription_id: s.provider_subscription_id } : {}),
      },
    };
  },
};
