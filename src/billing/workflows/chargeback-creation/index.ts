// The chargeback_creation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { chargebackCreationNotifications } from './notifications.ts';
import { chargebackCreationTrigger } from './operation.ts';
import { chargebackCreationRoute } from './route.ts';
import { chargebackCreation } from './workflow.ts';

export const chargebackCreationModule = workflowModule({
  type: 'chargeback_creation',
  label: 'Chargeback',
  define: chargebackCreation,
  route: chargebackCreationRoute,
  trigger: chargebackCreationTrigger,
  notifications: chargebackCreationNotifications,
});
