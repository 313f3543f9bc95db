// The subscription_cancellation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { subscriptionCancellationNotifications } from './notifications.ts';
import { requestCancellation, subscriptionCancellationTrigger } from './operation.ts';
import { subscriptionCancellation } from './workflow.ts';

export const subscriptionCancellationModule = workflowModule({
  type: 'subscription_cancellation',
  label: 'Subscription cancelled',
  define: subscriptionCancellation,
  start: requestCancellation,
  route: { method: 'post', path: '/subscriptions/{id}/cancel' },
  trigger: subscriptionCancellationTrigger,
  notifications: subscriptionCancellationNotifications,
});
