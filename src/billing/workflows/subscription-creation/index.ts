// The subscription_creation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { subscriptionCreationNotifications } from './notifications.ts';
import { subscriptionCreationTrigger } from './operation.ts';
import { subscriptionCreationRoute } from './route.ts';
import { subscriptionCreation } from './workflow.ts';

export const subscriptionCreationModule = workflowModule({
  type: 'subscription_creation',
  label: 'Subscription created',
  define: subscriptionCreation,
  route: subscriptionCreationRoute,
  trigger: subscriptionCreationTrigger,
  notifications: subscriptionCreationNotifications,
});
