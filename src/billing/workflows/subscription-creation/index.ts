// The subscription_creation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { subscriptionCreationNotifications } from './notifications.ts';
import { startSubscription, subscriptionCreationTrigger } from './operation.ts';
import { subscriptionCreation } from './workflow.ts';

export const subscriptionCreationModule = workflowModule({
  type: 'subscription_creation',
  label: 'Subscription created',
  define: subscriptionCreation,
  start: startSubscription,
  route: { method: 'post', path: '/subscriptions' },
  trigger: subscriptionCreationTrigger,
  notifications: subscriptionCreationNotifications,
});
