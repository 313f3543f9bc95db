// The refund_creation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { refundCreationNotifications } from './notifications.ts';
import { refundCreationTrigger } from './operation.ts';
import { refundCreationRoute } from './route.ts';
import { refundCreation } from './workflow.ts';

export const refundCreationModule = workflowModule({
  type: 'refund_creation',
  label: 'Refund issued',
  define: refundCreation,
  route: refundCreationRoute,
  trigger: refundCreationTrigger,
  notifications: refundCreationNotifications,
});
