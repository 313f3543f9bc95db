// The subscription_plan_change workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { subscriptionPlanChangeNotifications } from './notifications.ts';
import { subscriptionPlanChangeTrigger } from './operation.ts';
import { subscriptionPlanChangeRoute } from './route.ts';
import { subscriptionPlanChange } from './workflow.ts';

export const subscriptionPlanChangeModule = workflowModule({
  type: 'subscription_plan_change',
  label: 'Subscription plan changed',
  define: subscriptionPlanChange,
  route: subscriptionPlanChangeRoute,
  trigger: subscriptionPlanChangeTrigger,
  notifications: subscriptionPlanChangeNotifications,
});
