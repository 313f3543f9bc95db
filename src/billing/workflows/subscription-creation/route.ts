// POST /subscriptions: the API route that starts subscription_creation.
import { subscriptionSchema } from '../../records/views.ts';
import { startRoute } from '../shared/module.ts';
import { SubscriptionRequest } from './input.ts';
import { startSubscription } from './operation.ts';

export const subscriptionCreationRoute = startRoute({
  method: 'post',
  path: '/subscriptions',
  operationId: 'createSubscription',
  access: 'customer_support',
  summary: 'Subscribe a customer to a plan (starts subscription_creation)',
  description: 'The subscription exists when this answers; its run syncs the provider, stats and emails.',
  body: SubscriptionRequest,
  status: 201,
  answer: { name: 'subscription', schema: subscriptionSchema },
  start: (db, registry, { body }, options) => startSubscription(db, registry, body, options),
});
