import type { Db } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import type { Registry } from '../../engine/index.ts';
import { InvalidInputError } from '../../errors.ts';
import {
  findSubscription,
  findSubscriptionByProviderId,
  getSubscription,
  parseCancellationInput,
  requireCustomer,
} from '../records/index.ts';
import type { Subscription } from '../records/index.ts';
import { parseSubscriptionRequest } from '../workflows/subscription-creation.ts';
import type { OperationOptions, OperationResult } from './options.ts';
import { existingRecordRun, startRecordRun } from './started.ts';

/**
 * Creates a subscription and starts its subscription_creation run. With
 * `provider_subscription_id` the subscription already exists at the provider (an inbound event):
 * the run links it instead of creating it there.
 */
export async function startSubscription(
  db: Db,
  registry: Registry,
  raw: unknown,
  options: OperationOptions = {},
): Promise<OperationResult<Subscription>> {
  const input = parseSubscriptionRequest(raw);
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

/**
 * Requests a subscription's cancellation (at period end, at once, or on a date, with a refund of
 * none, the unused share, or the last payment) and starts its subscription_cancellation run.
 */
export async function requestCancellation(
  db: Db,
  registry: Registry,
  raw: unknown,
  options: OperationOptions = {},
): Promise<OperationResult<Subscription>> {
  const input = parseCancellationInput(raw, options.now ?? new Date());
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
