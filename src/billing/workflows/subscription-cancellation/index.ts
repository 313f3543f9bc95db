// The subscription_cancellation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { subscriptionCancellationNotifications } from './notifications.ts';
import { subscriptionCancellationTrigger } from './operation.ts';
import { subscriptionCancellationRoute } from './route.ts';
import { subscriptionCancellation } from './workflow.ts';

export const subscriptionCancellationModule = workflowModule({
  type: 'subscription_cancellation',
  label: 'Subscription cancelled',
  define: subscriptionCancellation,
  route: subscriptionCancellationRoute,
  trigger: subscriptionCancellationTrigger,
  notifications: subscriptionCancellationNotifications,
});
