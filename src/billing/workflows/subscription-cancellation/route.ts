// POST /subscriptions/{id}/cancel: the API route that starts subscription_cancellation.
import { InvalidInputError } from '../../../errors.ts';
import { getSubscription } from '../../records/index.ts';
import { startRoute } from '../shared/module.ts';
import { CancellationRequest, REFUND, WHEN } from './input.ts';
import { requestCancellation } from './operation.ts';

/** The operation's field names → the API's, so an error names what the caller sent. */
const API_FIELDS: Record<string, string> = { mode: 'when', cancel_at: 'date', subscription_id: 'id' };

export const subscriptionCancellationRoute = startRoute({
  method: 'post',
  path: '/subscriptions/{id}/cancel',
  operationId: 'cancelSubscription',
  access: 'customer_support',
  summary: 'Request a cancellation (starts subscription_cancellation)',
  description:
    '`when`: end_of_period, instantly or on_date (with `date`); `refund`: none, prorate (the unused share ' +
    'of the last payment) or full. A cancelled subscription is a 409.',
  idPrefix: 'sub',
  body: CancellationRequest,
  status: 202,
  async start(db, registry, { body, id = '' }, options) {
    // A missing subscription in the path is a missing resource, not a bad field.
    await getSubscription(db, id);
    try {
      return await requestCancellation(
        db,
        registry,
        {
          subscription_id: id,
          mode: WHEN[body.when],
          refund: REFUND[body.refund],
          ...(body.date === undefined ? {} : { cancel_at: body.date }),
          ...(body.reason === undefined ? {} : { reason: body.reason }),
        },
        options,
      );
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new InvalidInputError(error.errors.map((e) => ({ ...e, field: API_FIELDS[e.field] ?? e.field })));
    }
  },
  audit: {
    action: 'subscription.cancel',
    entry: ({ body, id }, started) => ({
      target: id ?? null,
      reason: body.reason ?? null,
      details: { when: body.when, date: body.date ?? null, refund: body.refund, workflow_run_id: started.runId },
    }),
  },
});
